"""Unit states, motions and roles (``sim.kinds``) write out as their plain strings.

Outputs (parquet, JSON, the staffing log's column names) must stay byte-identical to
the ones written when these were bare strings.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from sim.kinds import Motion, Role, Status


@pytest.mark.parametrize("member", [*Role, *Status, *Motion])
def test_members_print_format_and_compare_as_their_value(member):
    assert str(member) == member.value
    assert f"units_{member}" == f"units_{member.value}"
    assert format(member, ">12") == format(member.value, ">12")
    assert member == member.value and hash(member) == hash(member.value)
    assert {member.value: 1}[member] == 1


def test_enum_values_write_as_plain_strings():
    assert json.dumps({"role": Role.RESERVE, Status.BUSY: 1}) == '{"role": "reserve", "busy": 1}'
    df = pd.DataFrame({"role": [Role.PATROL, Role.CHECKPOINT], "status": [Status.OFF, Status.POST]})
    buf = io.BytesIO()
    df.to_parquet(buf)
    back = pd.read_parquet(io.BytesIO(buf.getvalue()))
    assert back["role"].tolist() == ["patrol", "checkpoint"] and type(back["role"][0]) is str
    assert back["status"].tolist() == ["off", "post"]


def test_roles_are_the_ones_the_force_assigns():
    assert Role("patrol") is Role.PATROL and Role("reserve") is Role.RESERVE
    with pytest.raises(ValueError):
        Role("sniper")
