"""Reading fitted-demand files, and a scenario that names one."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from sim.errors import DemandError, InputError
from sim.fitted_file import read_fitted


def _minimal(city=None):
    pts = [[104.28, 30.97, 1.0], [104.29, 30.98, 3.0]]
    return {"incidents_per_day": 24.0, "hour_of_week_profile": [1.0] * 84 + [3.0] * 84,
            "spatial": {"points": pts}, "day_dispersion": {"shape": 4.0},
            "types": [{"name": "a", "share": 1.0, "priority": 1, "units_needed": 2}],
            "source": {"anything": "kept"}}


def _write(tmp_path, data, name="f.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return p


def test_minimal_file_reads_and_keeps_metadata(tmp_path):
    f = read_fitted(_write(tmp_path, _minimal()))
    assert f["source"] == {"anything": "kept"} and f["day_dispersion"]["shape"] == 4.0
    assert f["types"][0]["on_scene_mean_s"] == 1800.0       # defaults filled in


@pytest.mark.parametrize("change, key, text", [
    (lambda d: d.pop("incidents_per_day"), "incidents_per_day", "Field required"),
    (lambda d: d.update(hour_of_week_profile=[1.0] * 24), "hour_of_week_profile", "needs 168 values"),
    (lambda d: d.update(hour_of_week_profile=[0.0] * 168), "hour_of_week_profile", "positive"),
    (lambda d: d["spatial"].update(points=[[30.9, 104.2, 1.0]]), "spatial.points", "out of range"),
    (lambda d: d["spatial"].update(points=[]), "spatial.points", "at least 1"),
    (lambda d: d.update(day_dispersion={"shape": -1}), "day_dispersion.shape", "greater than 0"),
    (lambda d: d["types"].append({"name": "a", "share": 1}), None, "unique"),
    (lambda d: d["types"][0].update(priority=12), "types[0].priority", "less than or equal to 9"),
])
def test_bad_files_give_one_line_with_the_key(tmp_path, change, key, text):
    d = _minimal()
    change(d)
    with pytest.raises(DemandError) as e:
        read_fitted(_write(tmp_path, d))
    assert text in str(e.value) and "\n" not in str(e.value)
    if key:
        assert e.value.key == key


def test_missing_empty_and_broken_files(tmp_path):
    with pytest.raises(DemandError, match="not found"):
        read_fitted(tmp_path / "none.yaml")
    with pytest.raises(DemandError, match="empty"):
        read_fitted(_write(tmp_path, ""))
    with pytest.raises(DemandError, match="YAML syntax"):
        read_fitted(_write(tmp_path, "a: [1, 2\n"))
    with pytest.raises(DemandError, match="mapping"):
        read_fitted(_write(tmp_path, "- 1\n- 2\n"))


def test_scenario_with_a_fitted_file_runs(tmp_path, small_town_dict):
    from sim.experiment import prepare, run_replication
    from sim.network import load_city
    from sim.scenario import scenario_from_dict

    probe = scenario_from_dict(small_town_dict())
    g = load_city(probe, quiet=True).places
    d = _minimal()
    d["spatial"]["points"] = [[float(g.lon[3]), float(g.lat[3]), 1.0]]    # every call at place 3
    path = _write(tmp_path, d)
    sc = scenario_from_dict(small_town_dict(demand={"fitted": path.name}, horizon_days=1.0),
                            source_file=str(tmp_path / "scenario.yaml"))
    ctx = prepare(sc, quiet=True)
    assert ctx.demand.type_name == ("a",) and ctx.demand.day_shape == 4.0
    assert ctx.demand.place_prob[3] == 1.0
    # the profile is normalised: 1 then 3 -> 0.5 then 1.5 of the mean
    assert np.isclose(ctx.demand.rate_per_hour[0], 24.0 / 24 * 0.5)
    out = run_replication(ctx, 0)
    assert (out.incidents["place"] == 3).all()


def test_scenario_naming_a_missing_fitted_file_is_an_input_error(tmp_path, small_town_dict):
    from sim.experiment import prepare
    from sim.scenario import scenario_from_dict

    sc = scenario_from_dict(small_town_dict(demand={"fitted": "nope.yaml"}),
                            source_file=str(tmp_path / "scenario.yaml"))
    with pytest.raises(InputError, match="create it with patrolsim fit"):
        prepare(sc, quiet=True)
