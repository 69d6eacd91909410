"""The teacher's Python API (sim.api): load, change a key, run one replication, tables, maps, levels.

Everything runs for real on the small synthetic town; a replication from the API must be the
replication the command line runs for the same scenario and seed.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim import api
from sim.errors import ScenarioError


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    import yaml

    from tests.conftest import small_town

    p = tmp_path_factory.mktemp("api") / "town.yaml"
    p.write_text(yaml.safe_dump(small_town(name="api-town", alert={"level": "green"}), sort_keys=False))
    return api.load(p)


@pytest.fixture(scope="module")
def one(town):
    return api.run_one(town, replication=1)


def test_load_the_default_and_a_file(town):
    sc = api.load("default")
    assert sc.name == "default" and sc.force.total_officers > 0
    assert town.name == "api-town" and town.alert.level == "green"


def test_with_keys_returns_a_validated_copy(town):
    red = api.with_keys(town, {"alert.level": "red", "force.total_officers": 20, "demand.types[0].share": 0.2})
    assert red.alert.level == "red" and red.force.total_officers == 20 and red.demand.types[0].share == 0.2
    assert town.alert.level == "green" and town.force.total_officers == 16  # the original is unchanged
    assert red.source_file == town.source_file
    with pytest.raises(ScenarioError, match="alert.levl"):
        api.with_keys(town, {"alert.levl": "red"})
    with pytest.raises(ScenarioError, match="alert.level"):
        api.with_keys(town, {"alert.level": "purple"})


def test_run_one_is_the_replication_the_command_runs(town, one):
    from sim.experiment.run import run_scenario

    result = run_scenario(town.model_copy(update={"replications": 2}), quiet=True)
    cli = result.outputs[1]
    assert one.metrics == cli.metrics
    pd.testing.assert_frame_equal(one.incidents.reset_index(drop=True), cli.incidents.reset_index(drop=True))
    again = api.run_one(town, replication=1, world=one.world)
    assert again.metrics == one.metrics


def test_tables_are_dataframes_with_the_metric_labels(town, one):
    assert isinstance(one.incidents, pd.DataFrame) and len(one.incidents) > 0
    assert {"call_s", "response_time_s", "response_within_line", "in_window"} <= set(one.incidents.columns)
    assert isinstance(one.units, pd.DataFrame) and set(one.units["unit"]) and "busy_share" in one.units
    s = one.summary.set_index("metric")
    assert s.loc["response_within_line", "label"] == "First unit within response line"
    counted = one.incidents[one.incidents["in_window"]]
    share = (counted["response_time_s"] <= town.lines.response_s).mean()
    assert s.loc["response_within_line", "value"] == pytest.approx(share)
    assert s.loc["response_within_line", "shown"] == f"{100 * share:.1f}%"
    assert one.lines_hold == (share >= town.lines.target_compliance
                              and (pd.isna(one.metrics["backup_within_line"])
                                   or one.metrics["backup_within_line"] >= town.lines.target_compliance))
    assert set(one.by_alert_level["alert_level"]) == {"green"}
    assert {"staffing", "alert_levels", "visibility"} <= set(one.tables)


def test_maps_show_in_a_notebook_and_save(one, tmp_path):
    png = one.incidents_map()._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    path = one.beats_map().save(tmp_path / "beats.svg")
    text = path.read_text()
    assert "<svg" in text and "Police station" in text


def test_compliance_by_level(town):
    levels = api.compliance_by_level(town, levels=("green", "red"), replications=2)
    assert list(levels["alert_level"]) == ["green", "red"]
    green, red = levels.iloc[0], levels.iloc[1]
    assert red["patrol_officers"] > green["patrol_officers"]  # more teams on duty at red
    # the mean is the mean of the replications run_one gives
    reps = [api.run_one(api.with_keys(town, {"alert.level": "red"}), r).metrics["response_within_line"]
            for r in range(2)]
    assert red["first_unit_within_line"] == pytest.approx(sum(reps) / 2)
    assert red["first_unit_ci95_low"] <= red["first_unit_within_line"] <= red["first_unit_ci95_high"]
    t = town.lines.target_compliance
    for row in (green, red):
        backup_ok = pd.isna(row["backup_within_line"]) or row["backup_within_line"] >= t
        assert bool(row["both_lines_hold"]) == bool(row["first_unit_within_line"] >= t and backup_ok)
