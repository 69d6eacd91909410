"""Paired comparison of scenarios under common random numbers.

Every scenario runs replications ``0..n-1`` with the same seed, so replication ``i``
of every scenario sees the same incident stream (when their demand, network and
horizon agree; ``sim.streams`` gives each random source its own stream, so the
incidents do not depend on the force). The difference of a metric between two
scenarios is then taken replication by replication, and its 95% confidence
interval is a Student t-interval on those paired differences, much narrower than
comparing two independent means. A difference is *significant* when its interval
excludes zero (no correction for testing many metrics at once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim import metrics
from sim.experiment.points import point_of_scenario
from sim.experiment.tasks import point_tasks, run_tasks
from sim.experiment.work_split import chunk_size, n_workers

#: Parts of a scenario that decide the incident stream.
STREAM_KEYS = ("seed", "demand", "network", "horizon_days")


@dataclass
class Arm:
    label: str
    scenario: object   # a validated Scenario (seed and replications already set)


def labels_for(scenarios: list) -> list[str]:
    """Scenario names, made unique with #2, #3 ... when two share a name."""
    seen: dict[str, int] = {}
    out = []
    for sc in scenarios:
        seen[sc.name] = seen.get(sc.name, 0) + 1
        out.append(sc.name if seen[sc.name] == 1 else f"{sc.name}#{seen[sc.name]}")
    return out


def same_incidents(scenarios: list) -> bool:
    """True when replication i of every scenario draws the same incidents (same seed, demand,
    network and horizon)."""
    first = {k: scenarios[0].to_dict().get(k) for k in STREAM_KEYS}
    return all({k: sc.to_dict().get(k) for k in STREAM_KEYS} == first for sc in scenarios[1:])


def run_arms(arms: list[Arm], replications: int, *, executor=None, progress=None) -> pd.DataFrame:
    """One row per scenario and replication: ``scenario`` (label), ``replication``, every metric."""
    tasks = []
    chunk = chunk_size(len(arms) * replications, replications, n_workers(executor))
    for i, arm in enumerate(arms):
        p = point_of_scenario(i, arm.scenario, {"scenario": arm.label})
        tasks += point_tasks(p, list(range(replications)), sweep="compare", chunk=chunk)
    rows: list[dict] = []
    total = len(arms) * replications
    if progress:
        progress(0, total)
    for _, res in run_tasks(executor, tasks):
        rows.extend(res)
        if progress:
            progress(len(rows), total)
    df = pd.DataFrame(rows).sort_values(["point_id", "replication"], kind="stable").reset_index(drop=True)
    bad = df[df["error"].notna()] if "error" in df.columns else df.iloc[0:0]
    if len(bad):
        r = bad.iloc[0]
        raise RuntimeError(f"replication {r['replication']} of {r['scenario']} failed: {r['error']}")
    return df.drop(columns=["sweep", "point_id", "error", "lines_hold"], errors="ignore")


def paired_difference(a: np.ndarray, b: np.ndarray) -> dict:
    """Mean of b - a over replications where both are defined, its 95% t-interval and p-value."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    ok = ~(np.isnan(a) | np.isnan(b))
    d = b[ok] - a[ok]
    n = int(d.size)
    out = {"n": n, "mean": None, "ci95": [None, None], "sd": None, "p_value": None, "significant": None}
    if n == 0:
        return out
    mc = metrics.mean_ci95(d.tolist())
    out["mean"], out["ci95"] = mc["mean"], list(mc["ci95"])
    if n >= 2:
        sd = float(d.std(ddof=1))
        out["sd"] = sd
        if sd == 0.0:
            out["p_value"] = 1.0 if out["mean"] == 0 else 0.0
        else:
            t = out["mean"] / (sd / math.sqrt(n))
            out["p_value"] = float(2 * stats.t.sf(abs(t), n - 1))
        lo, hi = out["ci95"]
        out["significant"] = bool(lo > 0 or hi < 0)
    return out


def metric_names(df: pd.DataFrame) -> list[str]:
    """The metric columns of the rows: those of the metric table in its order, then any others."""
    skip = {"scenario", "replication", "runtime_s"}
    found = [c for c in df.columns if c not in skip and pd.api.types.is_numeric_dtype(df[c])]
    return metrics.in_table_order(found)


def compare_rows(df: pd.DataFrame, labels: list[str], *, baseline: str | None = None) -> dict:
    """Per-scenario means and CIs, and the paired difference of every metric vs the baseline."""
    baseline = baseline or labels[0]
    names = metric_names(df)
    by = {lab: g.set_index("replication").sort_index() for lab, g in df.groupby("scenario")}
    per_scenario = {lab: metrics.summarise([{k: r[k] for k in names} for r in by[lab].to_dict("records")])
                    for lab in labels}
    diffs = []
    base = by[baseline]
    for lab in labels:
        if lab == baseline:
            continue
        other = by[lab]
        reps = base.index.intersection(other.index)
        for m in names:
            d = paired_difference(base.loc[reps, m].to_numpy(), other.loc[reps, m].to_numpy())
            sign = metrics.direction(m)
            verdict = None
            if d["significant"]:
                verdict = "higher" if d["mean"] > 0 else "lower"
                if sign:
                    verdict = "better" if d["mean"] * sign > 0 else "worse"
            diffs.append({"scenario": lab, "baseline": baseline, "metric": m, **d, "verdict": verdict})
    return {"baseline": baseline, "scenarios": labels, "metrics": per_scenario, "differences": diffs}


def compare(scenarios: list, *, replications: int, seed: int, executor=None, progress=None) -> dict:
    """Run every scenario with the same seed and replications; return the comparison."""
    scs = [sc.model_copy(update={"seed": seed, "replications": replications}) for sc in scenarios]
    labels = labels_for(scs)
    arms = [Arm(lab, sc) for lab, sc in zip(labels, scs)]
    df = run_arms(arms, replications, executor=executor, progress=progress)
    out = compare_rows(df, labels)
    out.update({
        "replications": replications,
        "seed": seed,
        "common_random_numbers": same_incidents(scs),
        "scenario_files": {lab: sc.source_file for lab, sc in zip(labels, scs)},
        "target_compliance": {lab: sc.lines.target_compliance for lab, sc in zip(labels, scs)},
    })
    return {"comparison": out, "rows": df, "scenarios": dict(zip(labels, scs))}


def differences_frame(comparison: dict) -> pd.DataFrame:
    rows = []
    for d in comparison["differences"]:
        lo, hi = d["ci95"]
        rows.append({"scenario": d["scenario"], "baseline": d["baseline"], "metric": d["metric"],
                     "baseline_mean": comparison["metrics"][d["baseline"]][d["metric"]]["mean"],
                     "scenario_mean": comparison["metrics"][d["scenario"]][d["metric"]]["mean"],
                     "difference": d["mean"], "ci95_low": lo, "ci95_high": hi, "n": d["n"],
                     "p_value": d["p_value"], "significant": d["significant"], "verdict": d["verdict"]})
    return pd.DataFrame(rows)
