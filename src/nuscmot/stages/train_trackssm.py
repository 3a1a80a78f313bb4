"""Train TrackSSM on GT trajectories; early stopping on the val ones.

    python -m nuscmot.stages.train_trackssm --params '<trackssm slice>' --train F.parquet \
        --val F.parquet --runs-dir DIR --model F --training F.json

``--train``: trajectories of the detector-train scenes (all cameras); ``--val``: those of the
detector-val scenes (never test scenes). Writes the checkpoint (``--model``, with its model
config and what it was trained on: the training trajectories' frame rate, measured from their
timestamps, their image sizes and the box normalisation; ``run_tracker`` refuses sequences that
differ), TensorBoard logs (``--runs-dir``) and ``--training``: the config, the data it was
trained on and the training report (epochs, best epoch, why it stopped). The held-out
comparison with the Kalman filter is ``heldout_trackssm``'s.
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
from nuscmot.tracking.trackssm.train import TrainConfig  # noqa: E402

SLICES = {"trackssm": TrainConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--train", required=True, type=Path, help="training trajectories (parquet)")
    p.add_argument("--val", required=True, type=Path, help="held-out trajectories (parquet)")
    p.add_argument("--runs-dir", required=True, type=Path, help="TensorBoard log folder")
    p.add_argument("--model", required=True, type=Path, help="output checkpoint")
    p.add_argument("--training", required=True, type=Path, help="output training report (JSON)")
    args = p.parse_args(argv)
    cfg = from_dict(TrainConfig, cli.load_params(args.params), where="trackssm")

    from nuscmot.tracking.trackssm.fit import train_trackssm

    train_trackssm(cfg, args.train, args.val, args.runs_dir, args.model, args.training)


if __name__ == "__main__":
    cli.run(main)
