"""COCO metrics of a trained detector on the val split and the CAM_FRONT test split.

    python -m nuscmot.evaluate_detector --params '<evaluate_detector slice json>' \
        --weights best_ckpt.pth --val-json val.json --test-json test_front.json \
        --image-root DATAROOT --out-json metrics.json --out-md metrics.md

Metrics (pycocotools ``COCOeval``): AP@[.5:.95], AP@0.5, AP@0.75, AR@100 and per-class
AP@0.5 (null for a class without ground truth in that split). The network is rebuilt from
the checkpoint's own model config; a checkpoint with a different number of classes is an
InputError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from nuscmot.common import cli

SPLITS = ("val", "test_front")
COLUMNS = (("AP50", "AP@0.5"), ("AP", "AP@[.5:.95]"), ("AP75", "AP@0.75"), ("AR100", "AR@100"))


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Detector metrics ({result['checkpoint']['model']}, epoch {result['checkpoint']['epoch']})",
        "",
        "| split | images | " + " | ".join(label for _, label in COLUMNS) + " |",
        "|---|---:|" + "---:|" * len(COLUMNS),
    ]
    for split in SPLITS:
        m = result["splits"][split]
        lines.append(f"| {split} | {m['images']} | " + " | ".join(f"{m[k]:.4f}" for k, _ in COLUMNS) + " |")
    classes = list(result["splits"][SPLITS[0]]["per_class_AP50"])
    lines += ["", "Per-class AP@0.5:", "", "| class | " + " | ".join(SPLITS) + " |", "|---|" + "---:|" * len(SPLITS)]
    for name in classes:
        cells = []
        for split in SPLITS:
            v = result["splits"][split]["per_class_AP50"].get(name)
            cells.append("n/a" if v is None else f"{v:.4f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("weights", "val-json", "test-json", "image-root", "out-json", "out-md"):
        p.add_argument(f"--{name}", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)

    import dataclasses

    from nuscmot.common.io import write_json, write_text
    from nuscmot.detector.checkpoint import load_model
    from nuscmot.common.device import resolve_device
    from nuscmot.detector.config import eval_config, set_cpu_threads
    from nuscmot.detector.evaluate import evaluate_coco
    from nuscmot.detector.predict import prepare_model

    cfg = eval_config(params)
    set_cpu_threads(cfg.threads)
    device = resolve_device(cfg.device, "--params")
    model, ckpt = load_model(args.weights, cfg.num_classes)
    mc = ckpt["model_config"]
    model = prepare_model(model, device)
    splits = {}
    for split, path in zip(SPLITS, (args.val_json, args.test_json)):
        metrics = evaluate_coco(
            model, path, args.image_root, num_classes=cfg.num_classes, input_size=tuple(mc["input_size"]),
            conf_threshold=cfg.conf_threshold, nms_threshold=cfg.nms_threshold, batch_size=cfg.batch_size,
            workers=cfg.workers, device=device, progress=split,
        )
        metrics.pop("summary", None)
        splits[split] = metrics
    result = {
        "checkpoint": {"model": mc["model"], "num_classes": mc["num_classes"], "input_size": list(mc["input_size"]),
                       "epoch": ckpt.get("epoch")},
        "params": {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("workers", "device")},
        "splits": splits,
    }
    write_json(args.out_json, result)
    write_text(args.out_md, markdown(result))


if __name__ == "__main__":
    cli.run(main)
