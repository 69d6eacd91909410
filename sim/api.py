"""The teacher's path: patrolsim from Python, one small step at a time.

The command line runs whole experiments; a class wants to poke at one town: load it,
change one key, run one replication, look at the incidents as a table and the town as
a map, raise the alert level and see whether the lines still hold. Every function here
calls the same parts the commands use (scenario files, ``sim.keypath``, the prepared
world, one replication of the engine, ``sim.metrics``, the report's maps), so a number
seen in a notebook is the number ``patrolsim run`` writes for the same seed.

    >>> from sim import api
    >>> sc = api.load("default")                        # or a path to a scenario YAML file
    >>> sc = api.with_keys(sc, {"horizon_days": 1})
    >>> one = api.run_one(sc, replication=0)
    >>> one.incidents.head()                             # pandas DataFrames
    >>> one.summary                                      # metric, label, value, shown
    >>> api.with_keys(sc, {"alert.level": "red"})
    >>> api.compliance_by_level(sc, replications=2)      # do the lines hold at each level?

Figures (``one.incidents_map()``, ``one.beats_map()``) are matplotlib Figures on the Agg
canvas wrapped in :class:`Picture`, which a notebook shows as a PNG and ``.save(path)``
writes; no pyplot window or global state is involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.kinds import LEVELS


def load(name_or_path: str | Path = "default"):
    """A validated scenario: ``"default"`` (the embedded county town) or a scenario YAML file's path.

    Bad files or keys raise ``sim.errors.ScenarioError`` naming the file, the key and the fix.
    """
    from sim.scenario_file import load_scenario

    if str(name_or_path) == "default":
        return load_scenario(None)
    return load_scenario(Path(name_or_path))


def with_keys(scenario, changes: dict):
    """A copy of ``scenario`` with each key path set to its value, validated again.

    Key paths are those of ``--set`` and sweep files (``sim.keypath``): ``"alert.level"``,
    ``"force.total_officers"``, ``"demand.types[2].share"``. The original is not changed.
    """
    from sim.keypath import parse_key, set_key
    from sim.scenario import scenario_from_dict
    from sim.scenario_file import _default_list

    data = scenario.to_dict()
    for key, value in changes.items():
        set_key(data, parse_key(key), value, missing=_default_list)
    return scenario_from_dict(data, source_file=scenario.source_file)


class Picture:
    """A matplotlib Figure a notebook shows as a PNG (``_repr_png_``); ``save`` writes PNG or SVG."""

    def __init__(self, figure) -> None:
        self.figure = figure

    def _repr_png_(self) -> bytes:
        from sim.report.figure_io import png_bytes

        return png_bytes(self.figure, dpi=90)

    def save(self, path: str | Path) -> Path:
        """Write the figure; the format follows the suffix (``.png``, ``.svg``, ``.pdf``)."""
        path = Path(path)
        self.figure.savefig(path, dpi=120)
        return path


@dataclass
class OneRun:
    """One replication of one scenario: its tables (pandas DataFrames) and the world it ran in."""

    scenario: object
    replication: int
    incidents: pd.DataFrame         # one row per incident (the rows of incidents.parquet)
    units: pd.DataFrame             # one row per unit (the rows of units.parquet)
    metrics: dict                   # metric name -> value, the headline numbers of this replication
    by_alert_level: pd.DataFrame    # the metrics of incidents called at each alert level
    tables: dict = field(default_factory=dict)  # staffing, alert_levels, visibility
    world: object = None            # the prepared world: city (streets, stations), deployment (beats, units)

    @property
    def summary(self) -> pd.DataFrame:
        """The metrics as a table with the labels and formats of ``sim.metrics.METRICS``."""
        from sim import metrics
        from sim.report import formats

        rows = []
        for name in metrics.in_table_order(list(self.metrics)):
            v = self.metrics[name]
            v = None if v is None or v != v else float(v)
            rows.append({"metric": name, "label": metrics.label(name), "value": v,
                         "shown": formats.value(name, v)})
        return pd.DataFrame(rows)

    @property
    def lines_hold(self) -> bool | None:
        """Both lines at the scenario's target compliance in this replication (None: no incident)."""
        from sim import metrics

        return metrics.replication_lines_hold(self.metrics, target=self.scenario.lines.target_compliance)

    def incidents_map(self) -> Picture:
        """The town with every counted incident, coloured by whether each line was met."""
        from sim.report.run_maps import incidents_map

        return Picture(incidents_map(self.world.city, self.incidents, self.scenario.lines.model_dump()))

    def beats_map(self, kind: str = "car") -> Picture:
        """The town's streets coloured by the beat of the ``kind`` unit that patrols them, with stations."""
        from sim.report.run_maps import beats_map

        return Picture(beats_map(self.world.city, self.world.deployment, kind=kind))


def prepare(scenario):
    """The prepared world of a scenario (network, demand, deployment, travel): reuse it for several
    replications with ``run_one(scenario, r, world=world)``."""
    from sim.world import prepare as prepare_world

    return prepare_world(scenario, quiet=True)


def run_one(scenario, replication: int = 0, *, world=None) -> OneRun:
    """Run replication ``replication`` of ``scenario`` (same seed, same numbers as ``patrolsim run``)."""
    from sim.experiment.replicate import run_replication

    world = world or prepare(scenario)
    out = run_replication(world, replication)
    by_level = pd.DataFrame([{"alert_level": lvl, **m} for lvl, m in out.by_alert_level.items()])
    return OneRun(scenario=scenario, replication=replication, incidents=out.incidents, units=out.units,
                  metrics=dict(out.metrics), by_alert_level=by_level, tables=dict(out.tables or {}), world=world)


def compliance_by_level(scenario, *, levels=LEVELS, replications: int = 3) -> pd.DataFrame:
    """Run the scenario at each alert level: both lines' compliance (mean and 95% CI across
    ``replications``) and whether both reach the target. The question a class asks: do the lines hold
    when the level is raised (more officers on duty, more incidents)?"""
    from sim import metrics

    rows = []
    for level in levels:
        sc = with_keys(scenario, {"alert.level": level})
        world = prepare(sc)
        per_rep = [run_one(sc, r, world=world).metrics for r in range(replications)]
        s = metrics.summarise(per_rep)
        row = {"alert_level": level, "patrol_officers": world.deployment.patrol_officers}
        for name, short in ((metrics.RESPONSE_LINE, "first_unit"), (metrics.BACKUP_LINE, "backup")):
            m = s.get(name, {"mean": None, "ci95": [None, None]})
            row[f"{short}_within_line"] = m["mean"]
            row[f"{short}_ci95_low"], row[f"{short}_ci95_high"] = m["ci95"]
        row["both_lines_hold"] = metrics.lines_hold(s, target=sc.lines.target_compliance)
        rows.append(row)
    return pd.DataFrame(rows)
