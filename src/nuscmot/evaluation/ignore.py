"""Which GT rows are ignored, and which hypotheses go with them (MOTChallenge / KITTI convention).

Two kinds of ignored GT row, as TrackEval's MOTChallenge and KITTI preprocessing treat them
(``trackeval/datasets/{mot_challenge,kitti}_2d_box.py``, ``get_preprocessed_seq_data``):

- **distractors**: rows of a class in ``distractor_classes`` (MOT17: person on vehicle, static
  person, distractor, reflection; KITTI: Van for Car, Person for Pedestrian) and, with
  ``min_visibility > 0``, rows whose visibility column is below it. Per frame, every hypothesis
  is matched to every non-region GT row (Hungarian on IoU, class-agnostic, pairs with
  IoU >= ``distractor_iou``); a hypothesis matched to a distractor is removed.
- **ignore regions**: the other zero-marked rows (conf column 0: crowd boxes, KITTI DontCare).
  They take no part in that matching; a hypothesis left unmatched by it is removed when more
  than ``region_ioa`` of its own area lies inside one region (intersection over the
  hypothesis' area, TrackEval's ``box_ioa``). ``region_ioa = 1`` turns regions off (MOTChallenge
  has none: its zero-marked rows only leave the GT).

Then every ignored row leaves the GT. Removed hypotheses and ignored rows count as neither FP,
FN nor match. Ignored rows may share an id or carry id -1 (KITTI DontCare): the one-id-per-frame
check only applies to the rows that are evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class IgnoreRules:
    """The ignore part of :class:`nuscmot.evaluation.metrics.EvaluationConfig` (validated there)."""

    distractor_classes: tuple[int, ...] = ()
    min_visibility: int = 0
    distractor_iou: float = 0.5
    region_ioa: float = 0.5

    def distractors(self, gt: np.ndarray) -> np.ndarray:
        """Rows of a distractor class or below ``min_visibility`` (when > 0)."""
        mask = np.isin(gt[:, 7].astype(np.int64), np.asarray(self.distractor_classes, dtype=np.int64))
        if self.min_visibility > 0:
            mask |= gt[:, 8] < self.min_visibility
        return mask

    def regions(self, gt: np.ndarray) -> np.ndarray:
        """Zero-marked rows that are not distractors: ignore regions."""
        return (gt[:, 6] == 0) & ~self.distractors(gt)

    def ignored(self, gt: np.ndarray) -> np.ndarray:
        """Every GT row that is not evaluated."""
        return (gt[:, 6] == 0) | self.distractors(gt)


def hungarian_matches(iou: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, cols)`` of the Hungarian matching on IoU, pairs with IoU >= ``threshold`` only."""
    from scipy.optimize import linear_sum_assignment

    if iou.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    score = np.where(iou >= threshold - EPS, iou, 0.0)
    rows, cols = linear_sum_assignment(-score)
    ok = score[rows, cols] > EPS
    return rows[ok], cols[ok]


def box_ioa(boxes: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Intersection over each box's own area, ``(len(boxes), len(regions))``; boxes as x, y, w, h."""
    x0 = np.maximum(boxes[:, None, 0], regions[None, :, 0])
    y0 = np.maximum(boxes[:, None, 1], regions[None, :, 1])
    x1 = np.minimum(boxes[:, None, 0] + boxes[:, None, 2], regions[None, :, 0] + regions[None, :, 2])
    y1 = np.minimum(boxes[:, None, 1] + boxes[:, None, 3], regions[None, :, 1] + regions[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (boxes[:, 2] * boxes[:, 3])[:, None]
    return np.divide(inter, area, out=np.zeros_like(inter), where=area > 0)


def removed_hypotheses(gt: np.ndarray, hyp: np.ndarray, iou: np.ndarray, rules: IgnoreRules) -> np.ndarray:
    """Boolean mask over one frame's hypotheses: those removed with an ignored GT row.

    ``iou`` is ``(len(gt), len(hyp))``. Distractor step first (matching over non-region rows),
    then the region step on the hypotheses that step left unmatched.
    """
    removed = np.zeros(len(hyp), dtype=bool)
    if not len(gt) or not len(hyp):
        return removed
    regions = rules.regions(gt)
    matchable = np.flatnonzero(~regions)
    rows, cols = hungarian_matches(iou[matchable], rules.distractor_iou)
    removed[cols[rules.distractors(gt)[matchable[rows]]]] = True
    if regions.any() and rules.region_ioa < 1:
        unmatched = np.setdiff1d(np.arange(len(hyp)), cols)
        inside = box_ioa(hyp[unmatched, 2:6], gt[regions, 2:6]) > rules.region_ioa + EPS
        removed[unmatched[inside.any(axis=1)]] = True
    return removed
