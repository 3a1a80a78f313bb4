"""What the detector finds, beyond the COCO summary: per-class recall at the tracking stage's
score threshold (``infer.conf_threshold``), recall by nuScenes visibility level, per-class
precision-recall curves at IoU 0.5 (pycocotools' ``eval['precision']``), and the training
curves read back from the trainer's own log (``train_log.txt``). Written into
``results/detector/metrics.json`` by ``evaluate_detector``, with plots in a folder beside it.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

RECALL_POINTS = np.linspace(0.0, 1.0, 101)  # COCOeval's recall thresholds
VISIBILITY_LEVELS = {1: "0-40%", 2: "40-60%", 3: "60-80%", 4: "80-100%"}


def _cocoeval(coco, detections: list[dict[str, Any]], image_ids: list[int]):
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(coco, coco.loadRes(detections), "bbox")
        ev.params.imgIds = list(image_ids)
        ev.evaluate()
        ev.accumulate()
    return ev


def matched_gt(ev) -> dict[int, bool]:
    """``{annotation id: matched at IoU 0.5}`` over every GT box of the evaluated images (area 'all')."""
    out: dict[int, bool] = {}
    for e in ev.evalImgs:
        if e is None or e["aRng"] != ev.params.areaRng[0]:
            continue
        for gid, m in zip(e["gtIds"], e["gtMatches"][0]):
            out[int(gid)] = bool(m > 0)
    return out


def recall_tables(coco, matched: Mapping[int, bool], image_ids: list[int]) -> tuple[dict, dict]:
    """Per-class recall and recall by visibility level (boxes and recall each)."""
    cats = {c["id"]: c["name"] for c in coco.loadCats(sorted(coco.getCatIds()))}
    per_class = {name: {"boxes": 0, "found": 0} for name in cats.values()}
    per_vis = {str(v): {"label": label, "boxes": 0, "found": 0} for v, label in VISIBILITY_LEVELS.items()}
    for i in image_ids:
        for a in coco.imgToAnns.get(i, []):
            hit = int(matched.get(a["id"], False))
            cell = per_class[cats[a["category_id"]]]
            cell["boxes"] += 1
            cell["found"] += hit
            vis = per_vis.get(str(a.get("visibility")))
            if vis is not None:
                vis["boxes"] += 1
                vis["found"] += hit
    for table in (per_class, per_vis):
        for cell in table.values():
            cell["recall"] = cell["found"] / cell["boxes"] if cell["boxes"] else None
    return per_class, per_vis


def pr_curves(ev, coco) -> dict[str, list[float] | None]:
    """Per class: precision at COCOeval's 101 recall points, IoU 0.5, all areas, 100 dets
    (-1 where the recall is never reached; None for a class without GT)."""
    cats = {c["id"]: c["name"] for c in coco.loadCats(sorted(coco.getCatIds()))}
    precision = ev.eval["precision"]  # [iou, recall, class, area, maxdets]
    out = {}
    for k, cat_id in enumerate(ev.params.catIds):
        p = precision[0, :, k, 0, -1]
        out[cats[cat_id]] = None if not (p > -1).any() else [round(float(v), 4) for v in p]
    return out


def detection_analysis(coco, detections: list[dict[str, Any]], image_ids: list[int], *,
                       conf_threshold: float) -> dict[str, Any]:
    """Recall at ``conf_threshold`` (per class, per visibility level) and PR curves of one split."""
    kept = [d for d in detections if d["score"] >= conf_threshold]
    matched = matched_gt(_cocoeval(coco, kept, image_ids)) if kept else {}
    per_class, per_vis = recall_tables(coco, matched, image_ids)
    curves = pr_curves(_cocoeval(coco, detections, image_ids), coco) if detections else {}
    return {"recall_conf_threshold": conf_threshold, "per_class_recall": per_class,
            "recall_by_visibility": per_vis, "pr_curves": curves}


_EPOCH = re.compile(
    r"epoch (?P<epoch>\d+)/(?P<total>\d+) phase (?P<phase>\S+?)(?P<noaug> no-aug)?: .*?"
    r"lr (?P<lr>\S+), loss (?P<total_loss>\S+) \(iou (?P<iou_loss>\S+) obj (?P<conf_loss>\S+) "
    r"cls (?P<cls_loss>\S+) l1 (?P<l1_loss>\S+?)\)"
    r"(?: \| val AP50 (?P<AP50>\S+) AP (?P<AP>\S+) AP75 (?P<AP75>\S+) AR100 (?P<AR100>\S+))?")


def training_curves(train_log: Path) -> list[dict[str, Any]]:
    """One record per epoch line of the trainer's ``train_log.txt`` (the last line of an epoch
    wins, so a resumed run's repeated epochs count once)."""
    epochs: dict[int, dict[str, Any]] = {}
    for line in Path(train_log).read_text(encoding="utf-8").splitlines():
        m = _EPOCH.search(line)
        if m is None:
            continue
        rec: dict[str, Any] = {"epoch": int(m["epoch"]), "phase": m["phase"], "no_aug": bool(m["noaug"])}
        for key in ("lr", "total_loss", "iou_loss", "conf_loss", "cls_loss", "l1_loss"):
            rec[key] = float(m[key])
        rec["val"] = {k: float(m[k]) for k in ("AP50", "AP", "AP75", "AR100")} if m["AP50"] else None
        epochs[rec["epoch"]] = rec
    return [epochs[k] for k in sorted(epochs)]


def _cell(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def analysis_markdown(result: Mapping[str, Any], splits: Sequence[str]) -> str:
    """Per-class recall and recall by visibility, Markdown (appended to ``metrics.md``)."""
    first = result["splits"][splits[0]]
    if "per_class_recall" not in first:
        return ""
    thr = first["recall_conf_threshold"]
    lines = ["", f"Recall at IoU 0.5 of the detections scoring >= {thr:g} (`infer.conf_threshold`), per class:", "",
             "| class | " + " | ".join(splits) + " |", "|---|" + "---:|" * len(splits)]
    for name in first["per_class_recall"]:
        lines.append(f"| {name} | " + " | ".join(
            _cell(result["splits"][s]["per_class_recall"].get(name, {}).get("recall")) for s in splits) + " |")
    lines += ["", "Recall by nuScenes visibility level (share of boxes in brackets):", "",
              "| visibility | " + " | ".join(splits) + " |", "|---|" + "---:|" * len(splits)]
    for level, label in VISIBILITY_LEVELS.items():
        cells = []
        for s in splits:
            table = result["splits"][s]["recall_by_visibility"]
            c, total = table.get(str(level), {}), sum(v["boxes"] for v in table.values()) or 1
            cells.append(f"{_cell(c.get('recall'))} ({c.get('boxes', 0) / total:.0%})")
        lines.append(f"| {level} ({label}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
