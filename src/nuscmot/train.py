"""Train the YOLOX detector on the COCO train split, two phases, resumable.

    python -m nuscmot.train --params '<detector slice json>' --train-json F --val-json F \
        --image-root DATAROOT --state-dir DIR --runs-dir DIR --best F --latest F \
        --train-log F --config-out F

Works under ``torchrun --nproc_per_node N`` (DDP; only rank 0 writes). The resumable state
lives in ``--state-dir``: rerunning continues from the last finished epoch; delete that
folder to force a fresh run. See :mod:`nuscmot.detector.trainer`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("train-json", "val-json", "image-root", "state-dir", "runs-dir", "best", "latest",
                 "train-log", "config-out"):
        p.add_argument(f"--{name}", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)

    from nuscmot.detector.config import detector_config
    from nuscmot.detector.trainer import TrainPaths, train

    cfg = detector_config(params)
    paths = TrainPaths(args.train_json, args.val_json, args.image_root, args.state_dir, args.runs_dir,
                       args.best, args.latest, args.train_log, args.config_out)
    train(cfg, paths)


if __name__ == "__main__":
    cli.run(main)
