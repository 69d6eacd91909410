"""The headline metrics of every group of a replication's incidents at once (per alert level, per priority).

This is where each incident figure is computed (``sim.metrics.replication_metrics`` is the one
group of a whole table). The plain form, a pandas ``groupby`` whose groups are each copied,
filtered to the window and reduced, cost some 10 ms per group of a simulated year. Here the
columns are read once as arrays, the rows in the window put in order of group (a stable sort:
each group's rows keep the table's order) and each figure taken the way the plain pandas
form takes it (``plain_metrics`` in tests/test_tables_fast_paths.py), so the numbers are the
same bits:

- shares of yes/no columns are counts (exact integers) divided by counts, as the mean of a
  boolean column (or of the non-null values of a nullable one) is;
- the mean response time is ``.mean()`` and its percentiles ``np.percentile`` of the same
  array (the group's served response times in the table's order, one contiguous array):
  the same pairwise sum and the same order statistics;
- the units' figures do not depend on the group: computed once (``sim.metrics.unit_metrics``)
  and added to every group's.

``tests/test_tables_fast_paths.py`` checks every figure against ``groupby`` and the plain form
on real replications.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def grouped_metrics(incidents: pd.DataFrame, by: str | None, unit_figures: dict | None = None, *,
                    lines_only: bool = True) -> dict:
    """{group value: metrics} as ``{v: replication_metrics(g, units, window_s=w, lines_only=...) for v, g
    in incidents.groupby(by)}`` would give (groups in sorted order, null values left out), or
    ``{None: metrics}`` of all incidents when ``by`` is None. ``unit_figures``:
    ``unit_metrics(units, window_s=w)``, added to each."""
    n = len(incidents)
    if by is None:
        keys, codes = [None], np.zeros(n, np.int64)
    else:
        codes, keys = pd.factorize(incidents[by], sort=True)
        keys = list(keys)
    in_window = incidents["in_window"].to_numpy(bool)
    rows = np.flatnonzero(in_window & (codes >= 0))
    code = codes[rows]
    if len(keys) > 1:           # a stable sort keeps each group's rows in the table's order (few groups: radix)
        order = np.argsort(code.astype(np.int16) if len(keys) < 2 ** 15 else code, kind="stable")
        rows, code = rows[order], code[order]
    bounds = np.searchsorted(code, np.arange(len(keys) + 1))
    cols = _Columns(incidents, rows, lines_only)
    return {key: {**cols.metrics(bounds[g], bounds[g + 1]), **(unit_figures or {})} for g, key in enumerate(keys)}


class _Columns:
    """The metric inputs of the rows in the window, in order of group (``rows``)."""

    def __init__(self, inc: pd.DataFrame, rows: np.ndarray, lines_only: bool) -> None:
        self.resp = inc["response_time_s"].to_numpy(float)[rows]
        self.within = _bool(inc["response_within_line"], rows)
        lines = _bool(inc["lines_apply"], rows) if lines_only and "lines_apply" in inc else None
        self.lines = lines
        self.needs_backup = inc["units_needed"].to_numpy()[rows] >= 2
        self.backup, self.backup_known = _nullable(inc["backup_within_line"], rows)
        self.served = _bool(inc["served"], rows)
        self.cross = _bool(inc["cross_area"], rows) if "cross_area" in inc else None
        if self.cross is not None:
            self.major = _bool(inc["major"], rows)
            self.enc, self.enc_known = _nullable(inc["encircled_within_line"], rows)
            self.cordon = _nullable(inc["cordon_applies"], rows) if "cordon_applies" in inc else None
        self.saw = _bool(inc["saw_patrol_last_hour"], rows) if "saw_patrol_last_hour" in inc else None

    def metrics(self, a: int, b: int) -> dict[str, float]:
        """The incident figures of rows ``a:b`` (one group), in the key order of the metric table's use."""
        n = b - a
        s = slice(a, b)
        resp = self.resp[s]
        served = resp[~np.isnan(resp)]
        lc = self.lines[s] if self.lines is not None else np.ones(n, bool)
        nb = lc & self.needs_backup[s]
        n_lc, n_nb = int(lc.sum()), int(nb.sum())
        out = {
            "incidents": int(n),
            "response_within_line": _share(int((self.within[s] & lc).sum()), n_lc),
            "backup_within_line": _share(int((self.backup[s] & self.backup_known[s] & nb).sum()),
                                         int((self.backup_known[s] & nb).sum())) if n_nb else math.nan,
            "response_time_mean_s": float(served.mean()) if served.size else math.nan,
            "response_time_p50_s": float(np.percentile(served, 50)) if served.size else math.nan,
            "response_time_p90_s": float(np.percentile(served, 90)) if served.size else math.nan,
            "unserved": int(n - self.served[s].sum()),
        }
        if self.cross is not None:
            out["cross_area_share"] = _share(int(self.cross[s].sum()), n) if n else math.nan
            major = self.major[s]
            known = self.enc_known[s] & major
            out["encircled_within_line"] = _share(int((self.enc[s] & known).sum()), int(known.sum()))
            if self.cordon is not None:
                applies, applies_known = self.cordon[0][s] & major, self.cordon[1][s] & major
                # ``~`` keeps nulls null and the mean skips them: the share of known values that are False
                n_known = int(applies_known.sum())
                out["cordon_not_applicable"] = (_share(n_known - int((applies & applies_known).sum()), n_known)
                                                if major.any() else math.nan)
        if self.saw is not None:
            out["saw_patrol_last_hour"] = _share(int(self.saw[s].sum()), n) if n else math.nan
        return out


def _share(count: int, of: int) -> float:
    """``count / of`` as the mean of a yes/no column gives it (nan over no value)."""
    return float(np.float64(count) / np.float64(of)) if of else math.nan


def _bool(col: pd.Series, rows: np.ndarray) -> np.ndarray:
    """A yes/no column at ``rows`` (a nullable one must have no null there)."""
    return col.to_numpy(bool)[rows] if col.dtype == bool else _strict(col, rows)


def _strict(col: pd.Series, rows: np.ndarray) -> np.ndarray:
    values, known = _nullable(col, rows)
    if not known.all():
        raise ValueError(f"column {col.name!r} has nulls where the metrics read it")
    return values


def _nullable(col: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A nullable yes/no column at ``rows``: its values (False where null) and where it is not null."""
    arr = col.array
    if isinstance(arr, pd.arrays.BooleanArray):
        return arr._data[rows], ~arr._mask[rows]
    values = col.to_numpy()
    known = ~pd.isna(values[rows])
    return np.where(known, values[rows], False).astype(bool), known
