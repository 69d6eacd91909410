"""``report.html`` for a run: the verdict, the table, the maps and the figures, in one offline file.

``write_run_report(folder)`` reads what ``patrolsim run`` wrote, draws every map and
chart (Agg backend, no display), and writes ``folder/report.html`` atomically (to a
temporary file renamed into place), so a half-written report is never left behind.
"""

from __future__ import annotations

from pathlib import Path

from sim.report import figures, headline, html_page, run_maps
from sim.report.basemap import OSM_ATTRIBUTION, is_osm
from sim.report.figure_io import png_data_uri, svg_text
from sim.report.results_folder import RunResults, read_results

REPORT_NAME = "report.html"


def write_run_report(folder: Path) -> Path:
    """Write ``folder/report.html`` from the run's files and return its path."""
    from sim.outputs import adopt, atomic_write_text

    res = read_results(Path(folder))
    text = build_page(res)
    path = atomic_write_text(res.folder / REPORT_NAME, text)
    adopt(res.folder, REPORT_NAME)  # the folder's own file from now on (a later run may replace it)
    return path


def _svg(fig, key: str, caption: str) -> str:
    if fig is None:
        return ""
    return html_page.figure(svg=svg_text(fig, key), caption=caption, id_=f"fig-{key}")


def _png(fig, key: str, caption: str) -> str:
    if fig is None:
        return ""
    return html_page.figure(png_uri=png_data_uri(fig, dpi=100), caption=caption, id_=f"fig-{key}")


def build_page(res: RunResults) -> str:
    s = res.summary
    lines = s["lines"]
    inc = res.table("incidents")
    sections, nav = [], []

    def add(id_, title, body):
        if body:
            sections.append(html_page.section(id_, title, body))
            nav.append((id_, title))

    add("verdict", "Do the lines hold?", _verdict_html(s))
    add("maps", "Maps", _maps_html(res))
    add("by-hour", "By hour of day", _svg(figures.hour_figure(s), "by-hour",
                                          "Share of incidents reached within each line, by the hour of the call. "
                                          "Bands: 95% confidence intervals across replications; dashed: target."))
    level_tab = ""
    if len(s.get("by_alert_level") or {}) > 0:
        level_tab = html_page.table(["Alert level", "Officers on patrol", "First unit within line (95% CI)",
                                     "Backup within line (95% CI)", "Response p90 (m:ss)", "Both lines hold"],
                                    headline.level_rows(s), id_="levels-table")
    add("by-level", "By alert level", _svg(figures.level_figure(s), "by-level",
                                           "Compliance at each alert level the run used, with 95% CIs and the "
                                           "target.") + level_tab)
    add("response-times", "Response times",
        _svg(figures.response_time_figure(inc, lines), "response-times",
             "Time from the call to the first unit's and the backup's arrival, every counted incident of every "
             "replication."))
    add("utilisation", "Utilisation",
        _svg(figures.utilisation_figure(res.table("units"), res.table("beats")), "utilisation",
             "Busy share (travelling to or on scene) of each beat's unit, mean over replications with 95% CI."))
    add("encirclement", "Encirclement",
        _svg(figures.encirclement_figure(inc, lines), "encirclement",
             "Major incidents: how soon units and checkpoints held every road leaving the radius."))
    add("visibility", "Visibility", _visibility_html(res))
    add("about", "About this run", _about_html(res))
    title = f"patrolsim report: {s.get('scenario', 'run')}"
    sub = [s.get("description") or "",
           f"{s['replications']} replication(s) × {s.get('horizon_days', 0):g} days "
           f"(warm-up {s.get('warmup_days', 0):g}), seed {s.get('seed')}, alert level {s.get('alert_level')}"]
    footer = (f"Written by patrolsim {_version()} from the files in this folder. "
              "Numbers are means over replications with 95% Student-t confidence intervals. ")
    if res.city is not None and is_osm(res.city):
        footer += html_page.esc(f"Street data {OSM_ATTRIBUTION} (ODbL 1.0).")
    data = {"summary_metrics": s["metrics"], "lines": lines, "lines_hold": s.get("lines_hold"),
            "by_alert_level": {k: {m: v for m, v in d.items() if m != "force"}
                               for k, d in (s.get("by_alert_level") or {}).items()}}
    return html_page.page(title=title, subtitle_lines=[x for x in sub if x], nav=nav, sections=sections,
                          footer=footer, data_blocks=[html_page.json_block("report-data", _clean(data))])


def _clean(x):
    from sim.outputs import _clean as clean

    return clean(x)


def _version() -> str:
    from sim import __version__

    return __version__


def _verdict_html(s: dict) -> str:
    sentence, holds = headline.verdict_sentence(s)
    head, rows, classes = headline.headline_rows(s)
    out = f'<div class="verdict {"hold" if holds else "fail"}" id="verdict-text">{html_page.esc(sentence)}</div>'
    out += '<div class="row"><div>' + html_page.table(head, rows, classes=classes, id_="headline-table") + "</div>"
    other = headline.other_rows(s)
    if other:
        out += "<div>" + html_page.table(["Other measures", "Mean", "95% CI"], other, id_="other-table") + "</div>"
    out += "</div>"
    f, n = s.get("force") or {}, s.get("network") or {}
    if f and n:
        kinds = ", ".join(f"{v} {k}" for k, v in (f.get("patrol_units") or {}).items() if v)
        out += (f'<p class="note">Force: {f.get("patrol_officers")} of {f.get("total_officers")} officers on patrol '
                f'({html_page.esc(kinds)} units), {f.get("standby_units", 0)} standby units at stations. '
                f'Network: {html_page.esc(n.get("name", ""))}, {n.get("street_km", 0):.0f} km of streets, '
                f'{n.get("area_km2", 0):.1f} km², {n.get("stations", 0)} stations.</p>')
    return out


def _maps_html(res: RunResults) -> str:
    notes = "".join(f'<p class="note">{html_page.esc(n)}</p>' for n in res.notes)
    if res.city is None:
        return notes or '<p class="note">The network could not be rebuilt, so no map is drawn.</p>'
    s, inc = res.summary, res.table("incidents")
    parts = [_png(run_maps.beats_map(res.city, res.deployment), "map-beats",
                  "Streets coloured by patrol beat (car units, nominal alert level); numbered circles mark each "
                  "beat; stations, the bureau and the city exits."),
             _png(run_maps.incidents_map(res.city, inc, s["lines"]), "map-incidents",
                  "Every counted incident, coloured by the line it missed (red drawn on top; points spread by "
                  "up to 45 m so incidents at the same street corner show)."),
             _png(run_maps.compliance_map(res.city, s.get("by_grid_cell") or {}, s["lines"]), "map-compliance",
                  "Response-line compliance per grid cell (mean over replications); black bar on the scale: "
                  "the target."),
             _png(run_maps.compliance_map(res.city, s.get("by_grid_cell") or {}, s["lines"],
                                          metric="backup_within_line"), "map-backup",
                  "Backup-line compliance per grid cell, incidents needing two units.")]
    return notes + '<div class="grid">' + "".join(parts) + "</div>" + _worst_cells_html(s)


def _worst_cells_html(s: dict, n: int = 8) -> str:
    cells = s.get("by_grid_cell") or {}
    t = s["lines"]["target_compliance"]
    rows = [(k, v) for k, v in cells.items() if (v.get("response_within_line") or {}).get("mean") is not None]
    rows = [r for r in rows if r[1]["response_within_line"]["mean"] < t]
    if not rows:
        return f'<p class="note">Every grid cell reaches the {100 * t:.0f}% target on the response line.</p>'
    rows.sort(key=lambda kv: kv[1]["response_within_line"]["mean"])
    body = [[k, f"{kv['incidents']['mean']:.1f}", headline.pct(kv["response_within_line"]["mean"]),
             headline.pct(kv["backup_within_line"]["mean"]), headline.mmss(kv["response_time_p90_s"]["mean"])]
            for k, kv in rows[:n]]
    return (f"<h3>Grid cells furthest below the target ({len(rows)} of {len(cells)} cells below "
            f"{100 * t:.0f}%)</h3>"
            + html_page.table(["Cell (row, column from the south-west)", "Incidents per replication",
                               "First unit within line", "Backup within line", "Response p90 (m:ss)"],
                              body, id_="worst-cells"))


def _visibility_html(res: RunResults) -> str:
    s = res.summary
    window_s = max(float(s.get("horizon_days", 0)) - float(s.get("warmup_days", 0)), 0.0) * 86400.0
    out = _svg(figures.visibility_hour_figure(res.table("incidents")), "visibility-hour",
               "Share of incidents whose place a patrol unit passed in the hour before the call, by hour.")
    if res.city is not None:
        out += _png(run_maps.presence_map(res.city, res.table("visibility"), window_s=window_s), "map-presence",
                    "Average number of patrol units inside each grid cell over the counted days.")
    return out


def _about_html(res: RunResults) -> str:
    s = res.summary
    n = s.get("network") or {}
    rows = [["Scenario", s.get("scenario", "")], ["Network source", n.get("source", "")],
            ["Replications", s.get("replications")], ["Seed", s.get("seed")],
            ["Days simulated (warm-up)", f"{s.get('horizon_days', 0):g} ({s.get('warmup_days', 0):g})"]]
    files = sorted(p.name for p in res.folder.iterdir() if not p.name.startswith(".") and p.name != REPORT_NAME)
    rows.append(["Files in this folder", ", ".join(files)])
    return html_page.table(["", ""], rows, id_="about-table")
