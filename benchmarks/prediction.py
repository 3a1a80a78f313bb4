"""Prediction alone: held-out IoU of TrackSSM (three training set-ups) against the Kalman filter
the tracker runs and constant position, on simulated 2 Hz camera trajectories.

    python benchmarks/prediction.py [--epochs 30] [--seeds 0 1] [--out results/bench/prediction.json]

Trajectories come from the tests' simulator (``tests/support/simulate.py``: a forward-driving
pinhole camera, objects entering and leaving the view): training, validation (early stopping)
and test scenes from three seeds. Every model is scored with ``train_trackssm``'s held-out
protocol (``heldout_metrics``: jittered observations, gaps, 1-step and 3-step predictions) on the
same test windows. The Kalman filter is the one ``run_tracker`` runs (``tracking.motion.kalman``
defaults, velocity noise scaled from 30 Hz to 2 Hz); the unscaled ByteTrack filter (1/160 at every
rate, which earlier held-out reports used) is shown beside it.

The TrackSSM size is the demo's (``config.yaml``'s trackssm slice); ``--epochs`` is the budget.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' simulated trajectories (not part of the package)
from support.simulate import simulate_trajectories  # noqa: E402

from nuscmot.common.config import from_dict  # noqa: E402
from nuscmot.common.io import write_json  # noqa: E402
from nuscmot.tracking.kalman import KalmanConfig  # noqa: E402
from nuscmot.tracking.trackssm.data import build_tracks  # noqa: E402
from nuscmot.tracking.trackssm.train import TrainConfig, heldout_metrics, train  # noqa: E402

FRAME_RATE = 2.0
VARIANTS = {  # label -> changes to the demo's trackssm slice
    "residual head (default)": {},
    "absolute head, otherwise default": {"head": "absolute"},
    "absolute head, published loss, single-step clean training": {
        "head": "absolute", "loss": "published", "rollout_steps": 1, "jitter": 0.0, "drop_prob": 0.0, "shift_prob": 0.0,
    },
}
# the filter run_tracker runs, and ByteTrack's unscaled one (1/160 stated at 2 Hz itself)
KALMANS = {"Kalman filter (the tracker's, rate-scaled)": KalmanConfig(),
           "Kalman filter, unscaled 1/160 (earlier reports)": KalmanConfig(reference_rate=FRAME_RATE)}


def demo_slice(epochs: int, seed: int, changes: dict) -> TrainConfig:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())["trackssm"]
    return from_dict(TrainConfig, {**cfg, "epochs": epochs, "seed": seed, "device": "cpu", **changes}, where="trackssm")


def scores(metrics: dict, name: str) -> list[float]:
    return [round(metrics["overall"][name][k], 3) for k in ("iou_1step", "iou_3step")]


def measure(args: argparse.Namespace) -> dict:
    tables = [build_tracks(simulate_trajectories(seed, n, args.frames, args.objects))
              for seed, n in ((100, args.train_scenes), (101, args.val_scenes), (102, args.test_scenes))]
    train_t, val_t, test_t = tables
    rows: dict[str, list] = {label: [] for label in [*VARIANTS, *KALMANS, "constant position"]}
    for seed in args.seeds:
        for label, changes in VARIANTS.items():
            cfg = demo_slice(args.epochs, seed, changes)
            model, _ = train(cfg, train_t, val_t, progress=False)
            for kalman_label, kalman in KALMANS.items():
                metrics = heldout_metrics(model, test_t, cfg, frame_rate=FRAME_RATE, kalman=kalman)
                if label == next(iter(VARIANTS)):  # the baselines do not depend on the model
                    rows[kalman_label].append(scores(metrics, "kalman"))
                    if kalman_label == next(iter(KALMANS)):
                        rows["constant position"].append(scores(metrics, "constant_position"))
            rows[label].append(scores(metrics, "trackssm"))
            print(f"seed {seed}: {label}: {rows[label][-1]}", flush=True)
    return {"windows": metrics["overall"]["n_1step"], "epochs": args.epochs, "seeds": list(args.seeds), "rows": rows}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--train-scenes", type=int, default=30)
    p.add_argument("--val-scenes", type=int, default=8)
    p.add_argument("--test-scenes", type=int, default=8)
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--objects", type=int, default=12)
    p.add_argument("--out", type=Path, default=ROOT / "results" / "bench" / "prediction.json")
    args = p.parse_args()
    result = measure(args)
    write_json(args.out, result)
    print(f"\nmean IoU with the true box, {result['windows']} test windows, seeds {result['seeds']}:\n")
    print("| | 1-step | 3-step (2 frames without observation) |\n|---|---|---|")
    for label, per_seed in result["rows"].items():
        print(f"| {label} | {', '.join(f'{a:.2f}' for a, _ in per_seed)} | {', '.join(f'{b:.2f}' for _, b in per_seed)} |")


if __name__ == "__main__":
    main()
