"""Self-describing tables: every Parquet file a run writes says its units, lines and level.

A table read back months later (or by someone who never saw the scenario) should not
need the code to be understood. So every table a run writes goes through
``write_parquet``, which

- adds the run's alert level as a column ``run_level`` (where the table lacks one);
- makes every alert-level column (``alert_level``, ``level``, ``run_level``) an ordered
  pandas Categorical, green < yellow < orange < red, so that sorting and ``max`` follow
  the levels' order rather than the alphabet;
- stores, as JSON under the ``patrolsim`` key of the Parquet schema metadata, the unit of
  each column that has one (from its name: ``_s`` seconds, ``_m`` metres, ...), the lines
  and their target (``response_s``, ``backup_s``, ``target_compliance``), the run level, the
  level order, and what a null means in the columns where a line may not apply.

The metadata is written with sorted keys, so the same run gives byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.alert import LEVELS

#: The key of the Parquet schema metadata that holds the description.
METADATA_KEY = b"patrolsim"
#: Columns holding an alert level (made ordered categoricals).
LEVEL_COLUMNS = ("alert_level", "level", "run_level")
#: Unit of a column, from the end of its name (the first suffix that matches wins).
SUFFIX_UNITS = (("_km2", "km2"), ("_kph", "km/h"), ("_km", "km"), ("_m", "m"), ("_s", "s"), ("_h", "h"),
                ("_per_day", "1/day"), ("_share", "share (0-1)"))
#: Units of columns whose names carry none.
NAMED_UNITS = {"lon": "degree (WGS84)", "lat": "degree (WGS84)", "hour_of_day": "h (0-23, local)",
               "day": "day (0 = first day of the run)", "arrival_s": "s (each unit's arrival)"}
#: What a null means in the columns where a line does not apply to every row.
NULL_MEANS = {
    "backup_within_line": "the incident needs one unit: the backup line does not apply",
    "backup_time_s": "the incident needs one unit, or no second unit arrived",
    "encircled_within_line": "not a major incident, or no cordon to draw (cordon_applies false): the line does not apply",
    "encircle_s": "not a major incident, or no road of the measured class leaves its circle (cordon_applies false)",
    "cordon_applies": "not a major incident",
    "second_arrival_s": "fewer than two units arrived",
    "first_arrival_s": "no unit arrived",
    "response_time_s": "no unit arrived",
}


def level_category(values) -> pd.Categorical:
    """Alert levels as an ordered Categorical (green < yellow < orange < red); nulls stay null.

    A value that is not a level is a programming error (levels come from the scenario's
    validated names), so it raises ValueError rather than silently becoming null.
    """
    values = pd.Series(values, dtype=object)
    unknown = sorted(set(values.dropna()) - set(LEVELS))
    if unknown:
        raise ValueError(f"not alert levels: {', '.join(map(str, unknown))} (levels are {', '.join(LEVELS)})")
    return pd.Categorical(values, categories=list(LEVELS), ordered=True)


def column_units(columns) -> dict[str, str]:
    """The unit of each column that has one, read from its name."""
    out = {}
    for col in columns:
        if col in NAMED_UNITS:
            out[col] = NAMED_UNITS[col]
            continue
        for suffix, unit in SUFFIX_UNITS:
            if col.endswith(suffix):
                out[col] = unit
                break
    return out


def describe(df: pd.DataFrame, *, lines: dict, run_level: str) -> dict:
    """The description stored with a table: units, lines, run level, level order, nulls.

    ``run_level`` is the run's level; a table gathered from runs at several levels
    (``run --all-levels``) lists them instead, in order.
    """
    if "run_level" in df.columns and df["run_level"].nunique() > 1:
        run_level = [lvl for lvl in LEVELS if (df["run_level"] == lvl).any()]
    return {"units": column_units(df.columns),
            "lines": {k: lines[k] for k in ("response_s", "backup_s", "target_compliance", "priorities")
                      if k in lines},
            "run_level": run_level,
            "alert_level_order": list(LEVELS),
            "null_means": {c: why for c, why in NULL_MEANS.items() if c in df.columns}}


def with_levels(df: pd.DataFrame, *, run_level: str) -> pd.DataFrame:
    """``df`` with a ``run_level`` column and every alert-level column an ordered category."""
    out = df if "run_level" in df.columns else df.assign(run_level=run_level)
    levels = {c: level_category(out[c]) for c in LEVEL_COLUMNS if c in out.columns}
    return out.assign(**levels)


def write_parquet(df: pd.DataFrame, path: Path, *, lines: dict, run_level: str) -> None:
    """Write ``df`` to ``path`` with its run level, ordered levels and the description in the schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = with_levels(df, run_level=run_level)
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(describe(df, lines=lines, run_level=run_level), sort_keys=True).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def read_description(path: Path) -> dict:
    """The description stored with a table written by ``write_parquet`` ({} when it has none)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[METADATA_KEY]) if METADATA_KEY in meta else {}
