"""Train the YOLOX detector on the COCO train split, two phases, resumable.

    python -m nuscmot.stages.train --params '<detector slice json>' --train-json F --val-json F \
        --image-root DATAROOT --state-dir DIR --runs-dir DIR --best F --latest F \
        --train-log F --config-out F [--nproc N]

``--nproc N`` with N > 1 re-launches this entry point under ``torchrun --standalone
--nproc_per_node N`` (DDP, one process per GPU; only rank 0 writes); the ``train`` rule
passes its ``resources.gpu`` here. Running it under torchrun yourself works the same.
The resumable state lives in ``--state-dir``, one folder per config fingerprint, never
cleared: rerunning continues from the last finished epoch; another config starts fresh
beside it. See :mod:`nuscmot.detector.trainer`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.detector.config import DetectorConfig

SLICES = {"detector": DetectorConfig}


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("train-json", "val-json", "image-root", "state-dir", "runs-dir", "best", "latest",
                 "train-log", "config-out"):
        p.add_argument(f"--{name}", required=True, type=Path)
    p.add_argument("--nproc", type=int, default=1,
                   help="DDP processes (GPUs) on this node; > 1 re-launches under torchrun")
    args = p.parse_args(argv)
    if args.nproc < 1:
        p.error(f"--nproc must be at least 1, got {args.nproc}")

    from nuscmot.detector.training.launch import relaunch_if_needed

    relaunch_if_needed(args.nproc, argv)
    params = cli.load_params(args.params)

    from nuscmot.detector.config import detector_config
    from nuscmot.detector.trainer import TrainPaths, train

    paths = TrainPaths(args.train_json, args.val_json, args.image_root, args.state_dir, args.runs_dir,
                       args.best, args.latest, args.train_log, args.config_out)
    train(detector_config(params), paths)


if __name__ == "__main__":
    cli.run(main)
