"""Parameter recovery over several seeds: the spread behind the tolerances of the recovery tests.

    python bench/calibration_recovery.py --fit demand.call_handling_mean_s --seeds 101,102,103,104,105 \\
        --trials 8 --replications 3 --days 2
    python bench/calibration_recovery.py --fit availability.out_of_service_per_h,demand.call_handling_mean_s \\
        --seeds 101,102,103,104,105 --trials 16 --replications 4 --days 2

For each seed: "observed" calls of the test town (``tests/calibrate/town.py``) at the true values
(``TRUE``: out of service 0.8 per unit-hour, call handling 120 s), 4 replications x 5 days of that
seed (about 800 calls), written as the plain CSV; then ``patrolsim calibrate`` of the town with the
keys in ``--fit`` starting from the town's values (keys not fitted are set to their true values).
Prints the fitted value and 95% interval of each key. Run from the repository's folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from sim.cli import main  # noqa: E402
from tests.calibrate.town import TRUE, observed_calls, town_dict  # noqa: E402


def run(args) -> None:
    keys = [k.strip() for k in args.fit.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        data = town_dict()
        for key, value in TRUE.items():
            if key not in keys:
                section, name = key.split(".")
                data[section] = {**data.get(section, {}), name: value}
        (d / "town.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        print(f"true values: {TRUE}; fitting {', '.join(keys)}")
        for seed in [int(s) for s in args.seeds.split(",")]:
            obs = observed_calls(d / f"obs{seed}.csv", seed=seed)
            out = d / f"cal{seed}.yaml"
            rc = main(["calibrate", str(d / "town.yaml"), "--observed", str(d / f"obs{seed}.csv"), "--fit", args.fit,
                       "--out", str(out), "--trials", str(args.trials), "--replications", str(args.replications),
                       "--days", str(args.days), "--bootstrap", "100", "--quiet", "--no-figure"])
            if rc != 0:
                raise SystemExit(rc)
            fit = json.loads(out.with_name(f"cal{seed}.fit.json").read_text())["fitted"]
            shown = "; ".join(f"{k} = {v['value']:.4g} [{v['low']:.4g}, {v['high']:.4g}]" for k, v in fit.items())
            print(f"seed {seed} ({len(obs)} observed calls): {shown}", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fit", required=True)
    p.add_argument("--seeds", default="101,102,103,104,105")
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--replications", type=int, default=3)
    p.add_argument("--days", type=float, default=2.0)
    run(p.parse_args())
