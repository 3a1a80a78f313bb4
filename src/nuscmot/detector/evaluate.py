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
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

from nuscmot.detector.data import check_images_exist, load_coco, subset_ids
from nuscmot.detector.predict import detect_files

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
) -> dict[str, Any]:
    """Detect every image of a COCO JSON with ``model`` (prepared, eval mode) and score it."""
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
    if distributed:
        dist.broadcast_object_list(metrics, src=0)
    return metrics[0]
