"""COCO metrics of a trained detector on the val split and the CAM_FRONT test split.

    python -m nuscmot.stages.evaluate_detector --params '<evaluate_detector slice json>' \
        --weights best_ckpt.pth --val-json val.json --test-json test_front.json \
        --image-root DATAROOT --out-json metrics.json --out-md metrics.md

Metrics (pycocotools ``COCOeval``): AP@[.5:.95], AP@0.5, AP@0.75, AR@100 and per-class
AP@0.5 (null for a class without ground truth in that split). The network is rebuilt from
the checkpoint's own model config; a checkpoint with a different number of classes is an
InputError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.detector.config import EvalConfig, eval_config

SLICES = {"evaluate_detector": EvalConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("weights", "val-json", "test-json", "image-root", "out-json", "out-md"):
        p.add_argument(f"--{name}", required=True, type=Path)
    args = p.parse_args(argv)
    cfg = eval_config(cli.load_params(args.params))

    from nuscmot.detector.evaluate import evaluate_checkpoint

    evaluate_checkpoint(cfg, args.weights, {"val": args.val_json, "test_front": args.test_json}, args.image_root,
                        args.out_json, args.out_md)


if __name__ == "__main__":
    cli.run(main)
