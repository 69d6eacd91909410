"""The call-type mapping table: matching call types and typing the calls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.calls import calltypes
from sim.calls.rows import RowReport
from sim.errors import DemandError


@pytest.fixture(scope="module")
def table():
    return calltypes.read_type_table()


def test_default_table_covers_every_seattle_2015_group_exactly(table, seattle_2015):
    df = pd.read_csv(seattle_2015, dtype=str, keep_default_na=False)
    fb = table.fallback_index
    for col in ("initial_type_group", "event_clearance_group"):
        idx = table.match(df[col].unique())
        missing = df[col].unique()[idx == fb]
        assert missing.size == 0, f"{col} groups without a row: {list(missing)}"
        # and they match an exact row, not a regular expression meant for the newer call types
        assert not any(table.rules["pattern"].iloc[i].startswith("re:") for i in idx)


def test_default_table_maps_most_newer_seattle_call_types(table, seattle_2018):
    df = pd.read_csv(seattle_2018, dtype=str, keep_default_na=False)
    for col in ("Initial Call Type", "Final Call Type"):
        idx = table.match(df[col])
        assert (idx == table.fallback_index).mean() < 0.10, col


def test_default_table_uses_the_simulators_default_type_names(table):
    from sim.scenario import DemandSpec

    assert set(table.rules["type"]) <= {t.name for t in DemandSpec().types}


def test_normalise_ignores_case_commas_spaces_and_leading_dashes():
    assert calltypes.normalise("--Threats,  Harassment ") == "THREATS HARASSMENT"


def _calls(types, priority_data=None):
    n = len(types)
    return pd.DataFrame({"call_type": types, "priority_data": priority_data if priority_data is not None
                         else np.full(n, np.nan),
                         "arrived": pd.NaT, "cleared": pd.NaT})


def test_priority_from_data_overrides_the_table(table):
    rep = RowReport("x")
    out = calltypes.assign_types(_calls(["ASSAULTS", "ASSAULTS", "something odd"], np.array([3.0, np.nan, 12.0])),
                                 table, rep)
    assert list(out["priority"]) == [3, 1, 3]            # data, table, table (12 is out of range)
    assert list(out["type"]) == ["violent", "violent", "assistance"]
    assert any("outside 1-9" in n for n in rep.notes)
    assert any("does not list" in n and "something odd" in n for n in rep.notes)


def test_bad_tables_are_reported(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("pattern,type,priority\nX,a,1\n")
    with pytest.raises(DemandError, match="no column units_needed"):
        calltypes.read_type_table(p)
    p.write_text("pattern,type,priority,units_needed,on_scene_mean_s,on_scene_cv\nX,a,high,1,100,0.5\n")
    with pytest.raises(DemandError, match="row 2: priority"):
        calltypes.read_type_table(p)
    p.write_text("pattern,type,priority,units_needed,on_scene_mean_s,on_scene_cv\nre:(,a,1,1,100,0.5\n")
    with pytest.raises(DemandError, match="regular expression"):
        calltypes.read_type_table(p)
    p.write_text("pattern,type,priority,units_needed,on_scene_mean_s,on_scene_cv\nX,a,1,1,100,0.5\n")
    with pytest.raises(DemandError, match="match no row"):
        calltypes.assign_types(_calls(["Y"]), calltypes.read_type_table(p), RowReport("x"))
