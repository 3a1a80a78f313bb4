"""Matching as pure functions (cf. ByteTrack's ``matching.py``): IoU cost, gated Hungarian.

Determinism: the Hungarian step is :func:`scipy.optimize.linear_sum_assignment` on a matrix
whose rows (tracks, by id) and columns (detections, by descending score) come in a defined
order. Among assignments of equal total cost, a tiny rank penalty prefers the lower column
(the higher-score detection) and, when tracks outnumber detections, the lower row (the older
track).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from nuscmot.tracking.boxes import iou_matrix

# Far below any meaningful cost difference (costs are 1 - IoU in [0, 1]).
_TIE_EPS = 1e-9


def iou_distance(
    track_boxes: np.ndarray,
    det_boxes: np.ndarray,
    track_cls: np.ndarray | None = None,
    det_cls: np.ndarray | None = None,
) -> np.ndarray:
    """Cost ``1 - IoU`` between tlwh boxes, (N, M); ``inf`` where classes differ (if given)."""
    cost = 1.0 - iou_matrix(track_boxes, det_boxes)
    if track_cls is not None and det_cls is not None and cost.size:
        mismatch = np.asarray(track_cls)[:, None] != np.asarray(det_cls)[None, :]
        cost[mismatch] = np.inf
    return cost


def linear_assignment(cost: np.ndarray, thresh: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-cost matching that only accepts pairs with ``cost <= thresh``.

    Equivalent to ByteTrack's ``lap.lapjv(cost, extend_cost=True, cost_limit=thresh)``: the
    objective is the sum of matched costs plus ``thresh`` per unmatched (row, column) pair,
    solved as a rectangular assignment on costs capped at ``thresh``.

    Returns ``(matches (K, 2) [row, col], unmatched_rows, unmatched_cols)``, all sorted.
    """
    cost = np.asarray(cost, dtype=np.float64)
    n, m = cost.shape
    rows_all, cols_all = np.arange(n), np.arange(m)
    empty = np.zeros((0, 2), dtype=np.int64)
    if n == 0 or m == 0:
        return empty, rows_all, cols_all
    valid = cost <= thresh
    if not valid.any():
        return empty, rows_all, cols_all
    capped = np.where(valid, cost, thresh)
    capped = capped + _TIE_EPS * (rows_all[:, None] / n + cols_all[None, :] / m)
    r, c = linear_sum_assignment(capped)
    keep = valid[r, c]
    matches = np.stack([r[keep], c[keep]], axis=1).astype(np.int64)  # rows ascending
    free_rows = np.ones(n, dtype=bool)
    free_rows[matches[:, 0]] = False
    free_cols = np.ones(m, dtype=bool)
    free_cols[matches[:, 1]] = False
    return matches, rows_all[free_rows], cols_all[free_cols]


@dataclass(frozen=True)
class Association:
    """The outcome of one association: matched pairs as track rows and detection indices of
    the caller's arrays (``tracks[i]`` matched ``dets[i]``), and what was left on each side,
    every array in the order its candidates were given."""

    tracks: np.ndarray
    dets: np.ndarray
    unmatched_tracks: np.ndarray
    unmatched_dets: np.ndarray


def associate(
    rows: np.ndarray,
    dets: np.ndarray,
    pred: np.ndarray,
    boxes: np.ndarray,
    thresh: float,
    track_cls: np.ndarray | None = None,
    det_cls: np.ndarray | None = None,
) -> Association:
    """Gated Hungarian (:func:`linear_assignment` at ``thresh``) between the tracks at ``rows``
    of ``pred`` (predicted tlwh boxes) and the detections at indices ``dets`` of ``boxes``;
    with ``track_cls``/``det_cls`` (indexed the same way) only equal classes can match."""
    if not len(rows) or not len(dets):
        none = np.zeros(0, dtype=np.int64)
        return Association(rows[none], dets[none], rows, dets)
    per_class = track_cls is not None and det_cls is not None
    cost = iou_distance(pred[rows], boxes[dets], track_cls[rows] if per_class else None,
                        det_cls[dets] if per_class else None)
    m, free_rows, free_dets = linear_assignment(cost, thresh)
    return Association(rows[m[:, 0]], dets[m[:, 1]], rows[free_rows], dets[free_dets])


def duplicate_pairs(
    boxes_a: np.ndarray, age_a: np.ndarray, boxes_b: np.ndarray, age_b: np.ndarray, thresh: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """ByteTrack's ``remove_duplicate_stracks``: for pairs closer than ``thresh`` (1 - IoU),
    drop the younger track. Returns boolean masks of rows to drop from ``a`` and ``b``."""
    drop_a = np.zeros(len(boxes_a), dtype=bool)
    drop_b = np.zeros(len(boxes_b), dtype=bool)
    if len(boxes_a) == 0 or len(boxes_b) == 0:
        return drop_a, drop_b
    dist = iou_distance(boxes_a, boxes_b)
    for p, q in zip(*np.nonzero(dist < thresh)):
        if age_a[p] > age_b[q]:
            drop_b[q] = True
        else:
            drop_a[p] = True
    return drop_a, drop_b
