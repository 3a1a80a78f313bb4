"""The ``iou`` motion model: no motion at all, the floor that shows what a motion model adds.

A track's predicted box is its last observed box, however long it has been lost (an IoU
tracker in the manner of Bochinski et al. 2017, behind the same ByteTrack association as the
other models). ``update`` and ``reanchor`` replace the held box with the observation; ``warp``
(ego-motion compensation) moves the held boxes through the camera-rotation homography, so a
turning camera does not lose a standing object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuscmot.common.fields import check_fields
from nuscmot.tracking.ego import warp_tlwh
from nuscmot.tracking.motion import MotionFactory, MotionModel, keep_rows

WHERE = "tracking.motion.iou"


@dataclass(frozen=True)
class IoUConfig:
    """The ``tracking.motion.iou`` slice: empty, nothing to set (the association's keys are
    the model's only settings)."""

    def __post_init__(self) -> None:
        check_fields(self, WHERE)


class IoUMotion(MotionModel):
    """One held box (tlwh, the last observation) per track."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes = np.zeros((0, 4))

    def start(self, ids: np.ndarray, boxes: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return
        self.ids = np.concatenate([self.ids, ids])
        self.boxes = np.concatenate([self.boxes, np.asarray(boxes, dtype=np.float64).reshape(-1, 4)])

    def predict(self, ids: np.ndarray) -> np.ndarray:
        return self.boxes[self.rows(ids)].copy()

    def update(self, ids: np.ndarray, boxes: np.ndarray) -> None:
        self.boxes[self.rows(ids)] = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)

    def reanchor(self, ids: np.ndarray, boxes: np.ndarray, gaps: np.ndarray) -> None:
        """Nothing to rebuild: the new observation is the held box."""
        self.update(ids, boxes)

    def warp(self, homography: np.ndarray) -> None:
        if len(self.ids):
            self.boxes = warp_tlwh(self.boxes, homography)

    def remove(self, ids: np.ndarray) -> None:
        keep = keep_rows(self.ids, ids)
        self.ids, self.boxes = self.ids[keep], self.boxes[keep]


def iou_factory(cfg: IoUConfig, checkpoint: str | None = None) -> MotionFactory:
    """A fresh model per sequence (nothing to load: ``checkpoint`` is unused)."""
    return lambda info, seqinfo: IoUMotion()
