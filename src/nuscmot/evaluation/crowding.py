"""Crowding: how many GT objects share a frame, and how much their boxes overlap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuscmot.evaluation.motmetrics_compat import iou
from nuscmot.evaluation.sequences import frame_groups


@dataclass(frozen=True)
class CrowdingStats:
    objects_per_frame: np.ndarray  # (length,) GT boxes in frame t + 1
    mean_objects: float  # mean over all frames of the sequence
    max_objects: int
    mean_pairwise_iou: float  # per frame: mean IoU over all GT box pairs; then mean over frames with >= 2 boxes (0 if none)

    def to_json(self) -> dict:
        return {
            "mean_objects_per_frame": self.mean_objects,
            "max_objects_per_frame": self.max_objects,
            "mean_pairwise_iou": self.mean_pairwise_iou,
        }


def mean_pairwise_iou(boxes: np.ndarray) -> float | None:
    """Mean IoU over the ``n (n - 1) / 2`` pairs of boxes; None for fewer than two boxes."""
    n = len(boxes)
    if n < 2:
        return None
    m = iou(boxes, boxes)
    return float(m[np.triu_indices(n, k=1)].mean())


def crowding(gt: np.ndarray, length: int) -> CrowdingStats:
    """Crowding statistics of one sequence from its evaluated GT rows."""
    groups = frame_groups(gt[:, 0], gt[:, 1], length)
    counts = np.array([len(g) for g in groups], dtype=np.int64)
    pair_means = [v for g in groups if (v := mean_pairwise_iou(gt[g, 2:6])) is not None]
    return CrowdingStats(
        objects_per_frame=counts,
        mean_objects=float(counts.mean()) if length else 0.0,
        max_objects=int(counts.max()) if length else 0,
        mean_pairwise_iou=float(np.mean(pair_means)) if pair_means else 0.0,
    )
