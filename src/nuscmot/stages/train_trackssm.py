"""Train TrackSSM on GT trajectories; early stopping and held-out metrics on the val ones.

    python -m nuscmot.stages.train_trackssm --params '<trackssm slice>' --train F.parquet \
        --val F.parquet --runs-dir DIR --model F --heldout F.json [--kalman '<tracking.motion.kalman slice>']

``--train``: trajectories of the detector-train scenes (all cameras); ``--val``: those of the
detector-val scenes (never test scenes). Writes the checkpoint (``--model``, with its model
config and what it was trained on: the training trajectories' frame rate, measured from their
timestamps, their image sizes and the box normalisation; ``run_tracker`` refuses sequences that
differ), TensorBoard logs (``--runs-dir``) and ``--heldout``: mean IoU of 1-step and 3-step
predictions of TrackSSM, the Kalman filter and constant position on the same held-out
windows, overall, by class and continuous vs after a gap. The Kalman filter is the one the
tracker runs: the ``--kalman`` slice (default: its dataclass's) with its velocity noise scaled to
the trajectories' frame rate.
"""

from __future__ import annotations

import os

# Small-batch training on a shared CPU: extra BLAS/OpenMP threads only contend (measured
# 0.09 s vs 7 s per step with 2 threads on 2 busy cores). Set before numpy/torch import.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402
from typing import Sequence  # noqa: E402

from nuscmot.common import cli  # noqa: E402
from nuscmot.common.config import from_dict  # noqa: E402
from nuscmot.tracking.kalman import KalmanConfig  # noqa: E402
from nuscmot.tracking.trackssm.train import TrainConfig  # noqa: E402

SLICES = {"trackssm": TrainConfig, "tracking.motion.kalman": KalmanConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--train", required=True, type=Path, help="training trajectories (parquet)")
    p.add_argument("--val", required=True, type=Path, help="held-out trajectories (parquet)")
    p.add_argument("--runs-dir", required=True, type=Path, help="TensorBoard log folder")
    p.add_argument("--model", required=True, type=Path, help="output checkpoint")
    p.add_argument("--heldout", required=True, type=Path, help="output held-out metrics (JSON)")
    p.add_argument("--kalman", default=None, help="tracking.motion.kalman slice (JSON): the held-out Kalman filter")
    args = p.parse_args(argv)
    cfg = from_dict(TrainConfig, cli.load_params(args.params), where="trackssm")
    kalman = from_dict(KalmanConfig, cli.load_params(args.kalman) if args.kalman else {}, where="tracking.motion.kalman")

    from nuscmot.tracking.trackssm.fit import train_trackssm

    train_trackssm(cfg, args.train, args.val, args.runs_dir, args.model, args.heldout, kalman)


if __name__ == "__main__":
    cli.run(main)
