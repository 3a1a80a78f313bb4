"""COCO metrics of a trained detector on the val split and the CAM_FRONT test split.

    python -m nuscmot.stages.evaluate_detector --params '<evaluate_detector slice json>' \
        --weights best_ckpt.pth --val-json val.json --test-json test_front.json \
        --image-root DATAROOT --out-json metrics.json --out-md metrics.md \
        [--recall-conf 0.1] [--train-log train_log.txt] [--plots-dir DIR]

Metrics (pycocotools ``COCOeval``): AP@[.5:.95], AP@0.5, AP@0.75, AR@100 and per-class
AP@0.5 (null for a class without ground truth in that split); with ``--recall-conf`` (the
``infer.conf_threshold``) also recall per class and per visibility level at that score and
per-class precision-recall curves, with ``--train-log`` the training curves from the trainer's
log, with ``--plots-dir`` their figures (:mod:`nuscmot.detector.analysis`). The network is rebuilt from
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
    p.add_argument("--recall-conf", type=float, default=None, help="score threshold of the recall tables (infer's)")
    p.add_argument("--train-log", type=Path, default=None, help="the trainer's train_log.txt (training curves)")
    p.add_argument("--plots-dir", type=Path, default=None, help="folder for the figures")
    args = p.parse_args(argv)
    cfg = eval_config(cli.load_params(args.params))

    from nuscmot.detector.evaluate import evaluate_checkpoint

    evaluate_checkpoint(cfg, args.weights, {"val": args.val_json, "test_front": args.test_json}, args.image_root,
                        args.out_json, args.out_md, recall_threshold=args.recall_conf, train_log=args.train_log,
                        plots_dir=args.plots_dir)


if __name__ == "__main__":
    cli.run(main)
