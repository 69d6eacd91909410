"""From an agency's call types to the simulator's incident types.

Dispatch systems have hundreds of call types; the simulator needs a few incident
types, each with a priority (1 most urgent), the number of units sent and an
on-scene time distribution. A mapping table (CSV) says, for each call type, which
incident type it is and with which priority, units and default on-scene time.
An optional ``major`` column (0/1) marks incidents that call for encirclement
(the scenario types' ``major`` flag). The table shipped with the project
(``sim/data/seattle_call_types.csv``) covers
the Seattle Police Department's call groups; its priorities follow SPD's 1-7
scale and its on-scene times are documented assumptions (neither Seattle file
carries clearance times), to be replaced by data where a file has them.

A table row's ``pattern`` is a call type (matched exactly after normalising
case, commas, spaces and SPD's leading dashes), or ``re:REGEX`` (searched in the
normalised call type; rows are tried in file order after the exact matches), or
``*`` (the fallback for call types nothing matches; those are counted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calls.rows import RowReport
from sim.errors import DemandError

DEFAULT_TABLE = Path(__file__).resolve().parent.parent / "data" / "seattle_call_types.csv"
TABLE_COLUMNS = ("pattern", "type", "priority", "units_needed", "on_scene_mean_s", "on_scene_cv")


def normalise(text: str) -> str:
    """Upper case, commas as spaces, single spaces, no leading dashes (SPD prefixes final types with '--')."""
    t = str(text).upper().replace(",", " ")
    t = " ".join(t.split())
    return t.lstrip("- ").strip()


@dataclass(frozen=True)
class TypeTable:
    """The mapping table, ready for matching."""

    rules: pd.DataFrame          # one row per table row, in file order
    file: str

    def match(self, call_types) -> np.ndarray:
        """Index of the table row for each call type; -1 when only the fallback matched or none."""
        values = pd.Series(np.asarray(call_types, dtype=object)).astype(str)
        uniq = values.unique()
        exact = {normalise(p): i for i, p in enumerate(self.rules["pattern"])
                 if not p.startswith("re:") and p != "*"}
        regex = [(i, re.compile(p[3:], re.IGNORECASE)) for i, p in enumerate(self.rules["pattern"])
                 if p.startswith("re:")]
        fallback = [i for i, p in enumerate(self.rules["pattern"]) if p == "*"]
        found = {}
        for u in uniq:
            key = normalise(u)
            idx = exact.get(key)
            if idx is None:
                idx = next((i for i, rx in regex if rx.search(key)), None)
            if idx is None:
                idx = fallback[0] if fallback else -1
            found[u] = idx
        return values.map(found).to_numpy(np.int64)

    @property
    def fallback_index(self) -> int | None:
        hits = [i for i, p in enumerate(self.rules["pattern"]) if p == "*"]
        return hits[0] if hits else None


def read_type_table(path: Path | None = None) -> TypeTable:
    """Read and check a mapping table (the shipped Seattle table when ``path`` is None)."""
    path = Path(path) if path else DEFAULT_TABLE
    file = str(path)
    if not path.exists():
        raise DemandError("call-type table not found", file=file, fix="check the path of the type table")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as exc:
        raise DemandError(f"cannot read the call-type table: {str(exc).splitlines()[0] if str(exc) else exc}",
                          file=file, fix="save it as a CSV with a header row") from None
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in TABLE_COLUMNS if c not in df.columns]
    if missing:
        raise DemandError(f"the call-type table has no column {', '.join(missing)}", file=file,
                          fix=f"columns needed: {', '.join(TABLE_COLUMNS)}")
    if df.empty:
        raise DemandError("the call-type table has no rows", file=file, fix="add at least a '*' row")
    for col, lo, hi, integer in (("priority", 1, 9, True), ("units_needed", 1, 20, True),
                                 ("on_scene_mean_s", 1e-9, 1e6, False), ("on_scene_cv", 0, 5, False)):
        v = pd.to_numeric(df[col].str.strip(), errors="coerce")
        bad = v.isna() | (v < lo) | (v > hi) | ((v % 1 != 0) if integer else False)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DemandError(f"row {i + 2}: {col} must be {'a whole number ' if integer else 'a number '}"
                              f"from {lo:g} to {hi:g} (got {df[col].iloc[i]!r})", file=file, key=col,
                              fix="correct that row")
        df[col] = v.astype(int) if integer else v.astype(float)
    df["pattern"] = df["pattern"].str.strip()
    df["type"] = df["type"].str.strip()
    if (df["type"] == "").any() or (df["pattern"] == "").any():
        i = int(np.flatnonzero(((df["type"] == "") | (df["pattern"] == "")).to_numpy())[0])
        raise DemandError(f"row {i + 2}: empty pattern or type", file=file, fix="fill in both")
    for i, p in enumerate(df["pattern"]):
        if p.startswith("re:"):
            try:
                re.compile(p[3:])
            except re.error as exc:
                raise DemandError(f"row {i + 2}: bad regular expression {p[3:]!r} ({exc})", file=file,
                                  key="pattern", fix="correct the expression") from None
    if "note" not in df.columns:
        df["note"] = ""
    major = df["major"].str.strip().str.lower() if "major" in df.columns else pd.Series("", index=df.index)
    bad = ~major.isin(["", "0", "1", "true", "false", "yes", "no"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DemandError(f"row {i + 2}: major must be 0 or 1 (got {df['major'].iloc[i]!r})", file=file,
                          key="major", fix="correct that row")
    df["major"] = major.isin(["1", "true", "yes"])
    return TypeTable(rules=df.reset_index(drop=True), file=file)


def assign_types(calls: pd.DataFrame, table: TypeTable, report: RowReport) -> pd.DataFrame:
    """Add incident type, priority, units needed and default on-scene time to every call.

    Priority comes from the data where the file has a usable priority column, else
    from the table. Call types only the fallback row matched are kept and counted.
    """
    out = calls.copy()
    idx = table.match(out["call_type"].to_numpy())
    if (idx < 0).any():
        bad = out.loc[idx < 0, "call_type"].unique()[:3]
        raise DemandError(f"call type(s) {', '.join(map(repr, bad))} match no row of the type table",
                          file=table.file, fix="add a '*' fallback row or rows for these call types")
    r = table.rules.iloc[idx].reset_index(drop=True)
    out["type"] = r["type"].to_numpy()
    out["rule"] = idx
    table_priority = r["priority"].to_numpy(int)
    pdata = out["priority_data"].to_numpy(float)
    usable = np.isfinite(pdata) & (pdata >= 1) & (pdata <= 9) & (np.mod(pdata, 1) == 0)
    present = np.isfinite(pdata)
    if (present & ~usable).any():
        report.note(f"{int((present & ~usable).sum())} priorities outside 1-9 were replaced by the type table's")
    out["priority"] = np.where(usable, np.nan_to_num(pdata), table_priority).astype(int)
    out["priority_from"] = np.where(usable, "data", "table")
    out["units_needed"] = r["units_needed"].to_numpy(int)
    out["on_scene_default_mean_s"] = r["on_scene_mean_s"].to_numpy(float)
    out["on_scene_default_cv"] = r["on_scene_cv"].to_numpy(float)
    out["major"] = r["major"].to_numpy(bool)
    fb = table.fallback_index
    if fb is not None:
        miss = idx == fb
        if miss.any():
            top = out.loc[miss, "call_type"].value_counts().head(3)
            report.note(f"{int(miss.sum())} calls have call types the table does not list; they were given "
                        f"the fallback type '{table.rules['type'].iloc[fb]}' (most common: "
                        + ", ".join(f"{k!r} x{v}" for k, v in top.items()) + ")")
    return out
