"""COCO box metrics with pycocotools' ``COCOeval``: AP@[.5:.95], AP@0.5, AP@0.75, AR@100 and
per-class AP@0.5. Used by ``evaluate_detector`` and, on the EMA model, during training.

(YOLOX's own ``COCOEvaluator`` gathers CUDA tensors, so it cannot run on a CPU.)
Under ``torch.distributed`` every rank detects a shard of the images; rank 0 scores them and
broadcasts the metrics.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

from nuscmot.detector.data import check_images_exist, load_coco, subset_ids
from nuscmot.detector.predict import detect_files
from nuscmot.detector.training.caps import caps_line

log = logging.getLogger(__name__)

SUMMARY_KEYS = ("AP", "AP50", "AP75", "AR100")


def coco_detections(coco, image_ids: list[int], dets) -> list[dict[str, Any]]:
    """Our :class:`~.predict.Detections` -> COCO result dicts (xywh, category ids)."""
    cat_ids = sorted(coco.getCatIds())
    out = []
    for d in dets:
        img_id = image_ids[d.index]
        for box, score, cls in zip(d.boxes, d.scores, d.classes):
            x1, y1, x2, y2 = (float(v) for v in box)
            out.append({"image_id": int(img_id), "category_id": int(cat_ids[int(cls)]),
                        "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(score)})
    return out


def coco_metrics(coco, detections: list[dict[str, Any]], image_ids: list[int]) -> dict[str, Any]:
    """COCOeval bbox metrics over ``image_ids``; per-class AP50 is None for a class without GT."""
    from pycocotools.cocoeval import COCOeval

    cats = {c["id"]: c["name"] for c in coco.loadCats(sorted(coco.getCatIds()))}
    result: dict[str, Any] = {"images": len(image_ids), "detections": len(detections)}
    gt_cats = {a["category_id"] for i in image_ids for a in coco.imgToAnns.get(i, [])}
    if not detections or not gt_cats:
        result.update({k: 0.0 for k in SUMMARY_KEYS})
        result["per_class_AP50"] = {n: (0.0 if c in gt_cats else None) for c, n in cats.items()}
        result["summary"] = "no detections" if not detections else "no ground truth"
        return result
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        dt = coco.loadRes(detections)
        ev = COCOeval(coco, dt, "bbox")
        ev.params.imgIds = list(image_ids)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    stats = ev.stats
    result.update({"AP": float(stats[0]), "AP50": float(stats[1]), "AP75": float(stats[2]),
                   "AR100": float(stats[8])})
    precision = ev.eval["precision"]  # [iou, recall, class, area, maxdets]
    per_class = {}
    for k, cat_id in enumerate(ev.params.catIds):
        p = precision[0, :, k, 0, -1]
        p = p[p > -1]
        per_class[cats[cat_id]] = float(np.mean(p)) if p.size else None
    result["per_class_AP50"] = per_class
    result["summary"] = buf.getvalue().strip()
    return result


def evaluate_coco(
    model: nn.Module,
    json_path: str | Path,
    image_root: str | Path,
    *,
    num_classes: int,
    input_size: tuple[int, int],
    conf_threshold: float,
    nms_threshold: float,
    batch_size: int,
    workers: int,
    device: torch.device,
    half: bool = False,
    max_images: int = 0,
    seed: int = 0,
    progress: str | None = None,
    analyse: Callable[..., dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Detect every image of a COCO JSON with ``model`` (prepared, eval mode) and score it;
    ``analyse(coco, detections, image_ids)``'s keys are added to the metrics (rank 0)."""
    coco = load_coco(json_path, num_classes)
    image_ids = subset_ids(coco.getImgIds(), max_images, seed)
    files = [Path(image_root) / coco.imgs[i]["file_name"] for i in image_ids]
    check_images_exist(files, json_path)
    distributed = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    mine = list(range(rank, len(files), world))
    dets = []
    for d in detect_files(model, [files[i] for i in mine], input_size=input_size, num_classes=num_classes,
                          conf_threshold=conf_threshold, nms_threshold=nms_threshold, batch_size=batch_size,
                          workers=workers, device=device, half=half, progress=progress):
        dets.append(dataclasses.replace(d, index=mine[d.index]))
    results = coco_detections(coco, image_ids, dets)
    if distributed:
        gathered: list[Any] = [None] * world
        dist.all_gather_object(gathered, results)
        results = [r for part in gathered for r in part]
    metrics = [coco_metrics(coco, results, image_ids) if rank == 0 else None]
    if analyse is not None and rank == 0:
        metrics[0].update(analyse(coco, results, image_ids))
    if distributed:
        dist.broadcast_object_list(metrics, src=0)
    return metrics[0]


SPLITS = ("val", "test_front")  # what evaluate_detector scores, in this order
COLUMNS = (("AP50", "AP@0.5"), ("AP", "AP@[.5:.95]"), ("AP75", "AP@0.75"), ("AR100", "AR@100"))


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Detector metrics ({result['checkpoint']['model']}, epoch {result['checkpoint']['epoch']})",
        "",
        caps_line(result["checkpoint"].get("training")),
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


def evaluate_checkpoint(cfg, weights: Path, split_jsons: dict[str, Path], image_root: Path, out_json: Path,
                        out_md: Path, *, recall_threshold: float | None = None, train_log: Path | None = None,
                        plots_dir: Path | None = None) -> dict[str, Any]:
    """Score checkpoint ``weights`` on every split's COCO JSON (``SPLITS`` order) under the
    ``evaluate_detector`` slice ``cfg`` (:class:`~nuscmot.detector.config.EvalConfig`); write
    the metrics JSON and Markdown; return the JSON document. With ``recall_threshold``
    (``infer.conf_threshold``) also recall per class and visibility level and PR curves
    (:mod:`nuscmot.detector.analysis`); ``train_log``: the training curves; ``plots_dir``: figures."""
    from functools import partial

    from nuscmot.common.device import resolve_device
    from nuscmot.common.io import write_json, write_text
    from nuscmot.detector.analysis import analysis_markdown, detection_analysis, training_curves
    from nuscmot.detector.checkpoint import load_model
    from nuscmot.detector.config import set_cpu_threads
    from nuscmot.detector.predict import prepare_model

    set_cpu_threads(cfg.threads)
    device = resolve_device(cfg.device, "--params")
    model, ckpt = load_model(weights, cfg.num_classes)
    mc = ckpt["model_config"]
    model = prepare_model(model, device)
    splits = {}
    for split in SPLITS:
        metrics = evaluate_coco(
            model, split_jsons[split], image_root, num_classes=cfg.num_classes, input_size=tuple(mc["input_size"]),
            conf_threshold=cfg.conf_threshold, nms_threshold=cfg.nms_threshold, batch_size=cfg.batch_size,
            workers=cfg.workers, device=device, progress=split,
            analyse=None if recall_threshold is None else partial(detection_analysis, conf_threshold=recall_threshold),
        )
        metrics.pop("summary", None)
        splits[split] = metrics
    result = {
        "checkpoint": {"model": mc["model"], "num_classes": mc["num_classes"], "input_size": list(mc["input_size"]),
                       "epoch": ckpt.get("epoch"), "training": ckpt.get("training")},
        "params": {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("workers", "device")},
        "splits": splits,
    }
    if train_log is not None:
        result["training"] = training_curves(train_log)
    if plots_dir is not None:
        from nuscmot.detector.analysis_plots import write_plots

        write_plots(plots_dir, result, SPLITS)
    write_json(out_json, result)
    write_text(out_md, markdown(result) + analysis_markdown(result, SPLITS))
    return result
