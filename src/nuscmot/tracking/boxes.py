"""Box conversions and IoU, vectorised over rows (numpy, float64).

Formats: ``tlwh`` (left, top, width, height; MOT files), ``tlbr`` (x1, y1, x2, y2),
``xyah`` (centre x, centre y, aspect w/h, height; the Kalman state), ``cxcywh``.
"""

from __future__ import annotations

import numpy as np


def tlwh_to_tlbr(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:4]], axis=-1)


def tlbr_to_tlwh(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., 2:4] - b[..., :2]], axis=-1)


def tlwh_to_xyah(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    h = b[..., 3:4]
    return np.concatenate([b[..., :2] + b[..., 2:4] / 2, b[..., 2:3] / h, h], axis=-1)


def xyah_to_tlwh(s: np.ndarray) -> np.ndarray:
    s = np.asarray(s, dtype=np.float64)
    h = s[..., 3:4]
    w = s[..., 2:3] * h
    return np.concatenate([s[..., 0:1] - w / 2, s[..., 1:2] - h / 2, w, h], axis=-1)


def tlwh_to_cxcywh(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2] + b[..., 2:4] / 2, b[..., 2:4]], axis=-1)


def cxcywh_to_tlwh(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2] - b[..., 2:4] / 2, b[..., 2:4]], axis=-1)


def iou_matrix(a_tlwh: np.ndarray, b_tlwh: np.ndarray) -> np.ndarray:
    """Pairwise IoU between (N, 4) and (M, 4) tlwh boxes -> (N, M); empty boxes give 0."""
    a = np.asarray(a_tlwh, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b_tlwh, dtype=np.float64).reshape(-1, 4)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    aw, ah = np.maximum(a[:, 2], 0), np.maximum(a[:, 3], 0)
    bw, bh = np.maximum(b[:, 2], 0), np.maximum(b[:, 3], 0)
    iw = np.minimum((a[:, 0] + aw)[:, None], b[:, 0] + bw) - np.maximum(a[:, 0, None], b[:, 0])
    ih = np.minimum((a[:, 1] + ah)[:, None], b[:, 1] + bh) - np.maximum(a[:, 1, None], b[:, 1])
    inter = np.maximum(iw, 0) * np.maximum(ih, 0)
    union = (aw * ah)[:, None] + bw * bh - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def iou_pairs(a_tlwh: np.ndarray, b_tlwh: np.ndarray) -> np.ndarray:
    """Row-wise IoU of two (N, 4) tlwh arrays -> (N,)."""
    a = tlwh_to_tlbr(np.asarray(a_tlwh, dtype=np.float64).reshape(-1, 4))
    b = tlwh_to_tlbr(np.asarray(b_tlwh, dtype=np.float64).reshape(-1, 4))
    iw = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a + area_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def interpolate_boxes(start: np.ndarray, end: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Linear interpolation between boxes: row i gets ``start + k/steps[i] * (end - start)``
    for k = 1..steps[i]; returns (N, max(steps), 4), rows padded with ``end`` past their steps."""
    start = np.asarray(start, dtype=np.float64).reshape(-1, 4)
    end = np.asarray(end, dtype=np.float64).reshape(-1, 4)
    steps = np.asarray(steps, dtype=np.int64).reshape(-1)
    kmax = int(steps.max()) if len(steps) else 0
    k = np.arange(1, kmax + 1)[None, :]
    frac = np.minimum(k / np.maximum(steps[:, None], 1), 1.0)[..., None]
    return start[:, None, :] + frac * (end - start)[:, None, :]
