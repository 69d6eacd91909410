"""Hypothesis strategies that build every input file of patrolsim, valid and broken.

Each strategy draws a ``Case`` (files plus a command line, see ``contract.py``): scenario
files (typos, wrong types, out-of-range, .inf/.nan, huge, booleans, deep nesting, duplicate
keys, aliases, truncated text), sweep files, hypercube problems, call CSVs for ``fit`` and
OpenStreetMap files (valid, truncated gzip, wrong XML, two nodes, empty, a folder). The
simulated work stays tiny (a 1-2 km² town, hours not days, one replication) so hundreds
of cases run in a minute.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import yaml
from hypothesis import strategies as st

from contract import Case

TEST_DATA = Path(__file__).resolve().parents[1] / "data"
TINY_OSM = (TEST_DATA / "tiny_town.osm").read_bytes()
RUN_PROMISES = ("summary.json", "incidents.parquet", "units.parquet", "scenario.resolved.yaml")


def small_scenario() -> dict:
    """A town that runs in a fraction of a second: about 1.5 km², 24 officers, a few hours."""
    return {"name": "fuzz-town", "seed": 5, "horizon_days": 0.15, "warmup_days": 0.02, "replications": 1,
            "network": {"synthetic": {"seed": 3, "area_km2": 1.5, "population": 15000, "stations": 2, "exits": 2}},
            "demand": {"incidents_per_day": 40},
            "force": {"total_officers": 24, "teams": 2}}


def _leaf_paths() -> list[str]:
    from sim.scenario_docs import key_paths

    return [p for p, _, _ in key_paths()]


LEAVES = _leaf_paths()
NUMERIC_LEAVES = ["horizon_days", "warmup_days", "demand.incidents_per_day", "demand.call_handling_mean_s",
                  "force.total_officers", "force.turnout_s", "force.shift_hours", "force.teams",
                  "lines.response_s", "lines.backup_s", "lines.target_compliance", "network.max_snap_m",
                  "network.synthetic.area_km2", "network.synthetic.seed", "network.synthetic.block_m",
                  "network.speeds.bicycle_kph", "network.speeds.foot_kph", "network.speeds.foot_patrol_kph",
                  "encirclement.radius_m", "dispatch.foot_max_travel_s", "alert.demand_multiplier.green",
                  "force.mix.car", "force.crew.car", "alert.patrol_share.green"]
EXTREMES = st.sampled_from([float("inf"), float("-inf"), float("nan"), 1e300, 1e9, 0, -1, True, 7, 0.01, 1e-300])

# values that are valid somewhere and wrong elsewhere; the big ones are out of every range
def mostly(valid, junk_one_in: int = 8):
    """``valid`` most of the time, a value from VALUES one time in ``junk_one_in``."""
    return st.integers(0, junk_one_in - 1).flatmap(lambda i: VALUES if i == 0 else valid)


VALUES = st.one_of(
    st.sampled_from([0, 1, 2, 3, -1, 0.5, 0.9, 24, 1e9, 1e300, -1e300, float("inf"), float("-inf"), float("nan"),
                     True, False, None, "", "green", "red", "car", "x", [], {}, [1, 2], {"a": 1}, "1e5"]),
    st.floats(min_value=-10, max_value=10, allow_nan=False),
    st.integers(min_value=-5, max_value=50),
    st.text(max_size=8),
)


def _set(data: dict, path: str, value) -> None:
    node = data
    parts = path.split(".")
    for p in parts[:-1]:
        nxt = node.get(p)
        if not isinstance(nxt, dict):
            nxt = {}
            node[p] = nxt
        node = nxt
    node[parts[-1]] = value


def _typo(word: str, i: int) -> str:
    i = i % max(1, len(word))
    return word[:i] + word[i + 1:] if len(word) > 1 else word + "x"


@st.composite
def scenario_dicts(draw) -> dict:
    """A small scenario, then 0-3 mutations: a value set anywhere, a typo, an unknown key, a deletion."""
    data = small_scenario()
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["set", "set", "number", "number", "typo", "unknown", "delete", "synthetic-to-osm"]))
        if op == "number":     # a numeric key given an extreme, non-finite or boolean value
            _set(data, draw(st.sampled_from(NUMERIC_LEAVES)), draw(EXTREMES))
        elif op == "set":
            _set(data, draw(st.sampled_from(LEAVES)), draw(VALUES))
        elif op == "typo":
            section = draw(st.sampled_from(["force", "demand", "network", None]))
            node = data.get(section, data) if section else data
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node, key=str)))
                node[_typo(str(key), draw(st.integers(0, 10)))] = node.pop(key)
        elif op == "unknown":
            data[draw(st.sampled_from(["foo", "forces", "horizon", "lines2"]))] = draw(VALUES)
        elif op == "delete":
            if data:
                data.pop(draw(st.sampled_from(sorted(data, key=str))))
        else:
            data["network"] = {"osm": {"file": "town.osm"}}
            data["force"] = {"total_officers": 8, "teams": 2}
    return data


def _dump(data) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


@st.composite
def scenario_texts(draw) -> bytes:
    """The YAML text of a scenario, sometimes broken as text: duplicate key, alias, depth, truncation, bytes."""
    text = _dump(draw(scenario_dicts()))
    op = draw(st.sampled_from(["none", "none", "none", "duplicate", "alias", "deep", "truncate", "bytes", "bool",
                               "empty"]))
    if op == "duplicate":
        text += b"force: {teams: 3}\n" if b"\nforce:" in text else b"name: again\n"
    elif op == "alias":
        text += b"x: &a [1, 2]\ny: *a\n"
    elif op == "deep":
        n = draw(st.sampled_from([10, 100, 5000]))
        text += b"deep: " + b"[" * n + b"]" * n + b"\n"
    elif op == "truncate":
        text = text[:draw(st.integers(0, max(0, len(text) - 1)))]
    elif op == "bytes":
        text = draw(st.binary(max_size=64))
    elif op == "bool":
        text += b"horizon_days: true\n" if b"horizon_days" not in text else b""
    elif op == "empty":
        text = b""
    return text


@st.composite
def osm_files(draw) -> bytes | None:
    """An .osm file: the test town, or broken (truncated, wrong XML, two nodes, empty); None: a folder."""
    kind = draw(st.sampled_from(["valid", "valid", "truncated", "wrong-xml", "two-nodes", "empty", "folder",
                                 "no-roads"]))
    if kind == "valid":
        return TINY_OSM
    if kind == "truncated":
        return TINY_OSM[:draw(st.integers(1, len(TINY_OSM) - 1))]
    if kind == "wrong-xml":
        return b"<html><body>not osm</body></html>"
    if kind == "two-nodes":
        return (b'<?xml version="1.0"?>\n<osm version="0.6">\n<node id="1" lat="47.65" lon="-122.30"/>\n'
                b'<node id="2" lat="47.651" lon="-122.30"/>\n<way id="9"><nd ref="1"/><nd ref="2"/>'
                b'<tag k="highway" v="residential"/></way>\n</osm>\n')
    if kind == "no-roads":
        return b'<?xml version="1.0"?>\n<osm version="0.6">\n<node id="1" lat="47.65" lon="-122.30"/>\n</osm>\n'
    if kind == "folder":
        return None
    return b""


RUN_ARGV = ("run", "{dir}/scenario.yaml", "--quiet", "--replications", "1", "--out", "{dir}/results/out")


@st.composite
def scenario_cases(draw) -> Case:
    return Case("scenario", {"scenario.yaml": draw(scenario_texts()), "town.osm": TINY_OSM}, RUN_ARGV,
                out="results/out", promises=RUN_PROMISES)


@st.composite
def osm_cases(draw) -> Case:
    data = small_scenario()
    data["network"] = {"osm": {"file": "town.osm" + draw(st.sampled_from(["", "", ".gz"]))}}
    data["force"] = {"total_officers": 8, "teams": 2}          # the test town has 7 drivable nodes
    name = data["network"]["osm"]["file"]
    content = draw(osm_files())
    if name.endswith(".gz") and content is not None:
        gz = gzip.compress(content, mtime=0)
        content = gz[:draw(st.integers(1, len(gz)))] if draw(st.booleans()) else gz   # truncated gz
    return Case("osm", {"scenario.yaml": _dump(data), name: content}, RUN_ARGV, out="results/out",
                promises=RUN_PROMISES)


@st.composite
def sweep_cases(draw) -> Case:
    sweep = {"name": "fuzz-sweep", "scenario": "scenario.yaml", "replications": 1}
    key = draw(st.sampled_from(["force.total_officers", "lines.response_s", "alert.level", "demand.incidents_per_day",
                                "horizon_days", "force.turnout_s", "nope.key", "force.total_oficers"]))
    values = draw(st.lists(VALUES, min_size=0, max_size=2))
    design = draw(st.sampled_from(["grid", "points", "sample"]))
    if design == "grid":
        sweep["grid"] = {key: values}
    elif design == "points":
        sweep["points"] = [{key: v} for v in values]
    else:
        lo, hi = draw(VALUES), draw(VALUES)
        sweep["sample"] = {"n": draw(st.sampled_from([1, 2, 0, -1, 1e9])), "ranges": {key: [lo, hi]}}
    if draw(st.booleans()):
        sweep[draw(st.sampled_from(["replications", "seed", "set", "nme"]))] = draw(VALUES)
    return Case("sweep", {"sweep.yaml": _dump(sweep), "scenario.yaml": _dump(small_scenario())},
                ("sweep", "{dir}/sweep.yaml", "--quiet", "--workers", "1", "--out", "{dir}/results/sweep"),
                out="results/sweep", promises=("",))


@st.composite
def hypercube_cases(draw) -> Case:
    n_units = draw(st.integers(1, 4))
    units = [f"u{i}" for i in range(n_units)]
    mu = draw(mostly(st.sampled_from([1.0, 2.0, 3.0])))
    atoms = []
    for j in range(draw(st.integers(0, 4))):
        pref = draw(st.permutations(units))[:draw(st.integers(1, n_units))]
        rate = draw(mostly(st.floats(min_value=0.01, max_value=1)))
        atoms.append({"id": f"a{j}", "rate": rate, "preference": list(pref)})
    problem = {"service_rate": mu, "queue": draw(st.sampled_from(["infinite", "loss", "loss", "lifo"])), "units": units,
               "atoms": atoms}
    if draw(st.booleans()):
        problem["travel_times"] = {a["id"]: {u: draw(mostly(st.floats(0, 10))) for u in units}
                                   for a in atoms}
    if draw(st.integers(0, 4)) == 0:
        problem[draw(st.sampled_from(["extra", "service_rate", "units"]))] = draw(VALUES)
    return Case("hypercube", {"problem.yaml": _dump(problem)},
                ("analytic", "hypercube", "{dir}/problem.yaml", "--out", "{dir}/results/hypercube.json"),
                out="results/hypercube.json", promises=("",))


# Times of calls in the test town's year; the far-future timestamps of issue 11 (year 2999) belong to the
# call readers and are not drawn here.
TIMES = st.integers(0, 7).flatmap(lambda i: st.sampled_from(["", "yesterday", "2015-13-45 25:61:00", "0"]) if i == 0
                                  else GOOD_TIMES)
GOOD_TIMES = st.one_of(st.datetimes(min_value=dt.datetime(2015, 1, 1),
                               max_value=dt.datetime(2015, 3, 1)).map(
                      lambda t: t.strftime("%Y-%m-%d %H:%M:%S")))


@st.composite
def calls_cases(draw) -> Case:
    """A call CSV in a custom format (mapping file) around the test town, valid rows and broken ones."""
    n = draw(st.sampled_from([0, 1, 30, 40, 60]))
    rows = []
    for _ in range(n):
        if draw(st.integers(0, 19)) == 0:
            rows.append([draw(TIMES), draw(st.sampled_from(["", "x", "nan", "91"])), "-122.30", "Theft"])
        else:
            rows.append([draw(TIMES), f"{47.6482 + draw(st.floats(0, 0.0027)):.6f}",
                         f"{-122.302 + draw(st.floats(0, 0.0053)):.6f}", draw(st.sampled_from(["Theft", "Traffic"]))])
    header = ["Call Time", "Lat", "Lon", "Group"]
    if draw(st.integers(0, 5)) == 0:
        header[draw(st.integers(0, 3))] = "Other"
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    if draw(st.integers(0, 6)) == 0:
        text = text[:draw(st.integers(0, len(text)))]
    mapping = "time_zone: America/Los_Angeles\ncolumns: {time: Call Time, latitude: Lat, longitude: Lon, type: Group}\n"
    return Case("calls", {"calls.csv": text.encode("utf-8"), "calls.columns.yaml": mapping.encode(),
                          "town.osm": TINY_OSM},
                ("fit", "{dir}/calls.csv", "--network", "{dir}/town.osm", "--columns", "{dir}/calls.columns.yaml",
                 "--no-figures", "--quiet", "--out", "{dir}/results/demand.yaml"),
                out="results/demand.yaml", promises=("",))


STRATEGIES = {"scenario": scenario_cases(), "osm": osm_cases(), "sweep": sweep_cases(),
              "hypercube": hypercube_cases(), "calls": calls_cases()}


def describe(case: Case) -> str:
    """A short printable form of a case, for failure reports."""
    files = {k: (None if v is None else v[:400].decode("utf-8", "replace")) for k, v in case.files.items()
             if k != "town.osm" or v != TINY_OSM}
    return json.dumps({"kind": case.kind, "argv": list(case.argv), "files": files}, indent=1)[:3000]
