"""Held-out prediction IoU of a trained TrackSSM against the Kalman filter the tracker runs.

    python -m nuscmot.stages.heldout_trackssm --params '<tracking.motion.kalman slice>' \
        --model F.pt --val F.parquet --out F.json

Mean IoU of 1-step and 3-step predictions of TrackSSM, the Kalman filter (the slice given, its
velocity noise scaled to the training trajectories' frame rate as ``run_tracker`` scales it)
and constant position on the same held-out windows (the detector-val scenes' trajectories,
never a test scene), overall, by class and continuous vs after a gap. Its own job, so a
Kalman change re-measures here and never retrains TrackSSM.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # see train_trackssm
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402
from typing import Sequence  # noqa: E402

from nuscmot.common import cli  # noqa: E402
from nuscmot.common.config import from_dict  # noqa: E402
from nuscmot.tracking.kalman import KalmanConfig  # noqa: E402

SLICES = {"tracking.motion.kalman": KalmanConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--model", required=True, type=Path, help="TrackSSM checkpoint (train_trackssm)")
    p.add_argument("--val", required=True, type=Path, help="held-out trajectories (parquet)")
    p.add_argument("--out", required=True, type=Path, help="output held-out metrics (JSON)")
    args = p.parse_args(argv)
    kalman = from_dict(KalmanConfig, cli.load_params(args.params), where="tracking.motion.kalman")

    from nuscmot.tracking.trackssm.fit import measure_heldout

    measure_heldout(args.model, args.val, kalman, args.out)


if __name__ == "__main__":
    cli.run(main)
