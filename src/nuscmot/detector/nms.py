"""Torch-only NMS, and the hook that lets ``yolox`` import where torchvision cannot.

``yolox.utils.boxes`` does ``import torchvision`` at module level and uses exactly two
functions from it, ``torchvision.ops.nms`` and ``torchvision.ops.batched_nms`` (in
``postprocess``); nothing else in yolox touches torchvision. The CPU venv has no
torchvision (PyPI's wheel does not import beside torch 2.13 CPU), so
:func:`ensure_yolox_importable` imports ``yolox.utils`` with a minimal ``torchvision``
module object that holds only those two functions, and removes it from ``sys.modules``
right after, so no other library ever sees a fake torchvision. Where the real torchvision
imports (GPU machines), it is used untouched.

The functions follow torchvision's semantics: boxes ``(x1, y1, x2, y2)``, a box is
suppressed when its IoU with a kept, higher-scoring box is strictly greater than the
threshold, and the kept indices come back sorted by decreasing score.
"""

from __future__ import annotations

import importlib
import logging
import sys
import types

import numpy as np
import torch

log = logging.getLogger(__name__)

SHIM_FLAG = "__nuscmot_nms_shim__"


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy NMS; int64 indices of the kept boxes, by decreasing score."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    b = boxes.detach().to("cpu", torch.float64).numpy()
    s = scores.detach().to("cpu", torch.float64).numpy()
    order = np.argsort(-s, kind="stable")
    b = b[order]
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    n = len(order)
    suppressed = np.zeros(n, dtype=bool)
    keep = []
    for i in range(n):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = slice(i + 1, n)
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest] |= iou > iou_threshold
    kept = order[np.asarray(keep, dtype=np.int64)]
    return torch.from_numpy(kept).to(boxes.device)


def batched_nms(
    boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, iou_threshold: float
) -> torch.Tensor:
    """NMS within each category ``idxs`` (boxes of different categories never overlap)."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    # torchvision's coordinate trick: shift each category to its own disjoint region.
    b = boxes.detach().to(torch.float64)
    offsets = idxs.to(b) * (b.max() - b.min() + 1)
    return nms(b + offsets[:, None] - b.min(), scores, iou_threshold)


def _shim_module() -> types.ModuleType:
    ops = types.ModuleType("torchvision.ops")
    ops.nms = nms
    ops.batched_nms = batched_nms
    tv = types.ModuleType("torchvision")
    tv.ops = ops
    setattr(tv, SHIM_FLAG, True)
    return tv


def real_torchvision_available() -> bool:
    try:
        import torchvision  # noqa: F401
    except Exception:  # ImportError, or a broken build raising at import
        return False
    return not getattr(sys.modules.get("torchvision"), SHIM_FLAG, False)


def ensure_yolox_importable() -> str:
    """Import ``yolox.utils`` (real torchvision if importable, else our NMS); returns which."""
    boxes = sys.modules.get("yolox.utils.boxes")
    if boxes is not None:
        return "shim" if getattr(boxes.torchvision, SHIM_FLAG, False) else "torchvision"
    if real_torchvision_available():
        importlib.import_module("yolox.utils")
        return "torchvision"
    shim = _shim_module()
    saved = {k: sys.modules.pop(k) for k in ("torchvision", "torchvision.ops") if k in sys.modules}
    sys.modules["torchvision"] = shim
    sys.modules["torchvision.ops"] = shim.ops
    try:
        importlib.import_module("yolox.utils")
    finally:
        for key in ("torchvision", "torchvision.ops"):
            sys.modules.pop(key, None)
        sys.modules.update(saved)
    log.debug("yolox imported with nuscmot's torch-only NMS (torchvision not importable)")
    return "shim"
