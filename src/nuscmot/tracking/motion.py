"""The motion-model interface: the only thing that differs between our trackers.

A motion model keeps one state per track id. The tracker calls, per frame:

1. :meth:`MotionModel.predict` once, batched over every live track: advances each state by
   one frame and returns the predicted boxes (the association uses them);
2. :meth:`MotionModel.update` with the observations matched to tracks seen in the previous
   frame, :meth:`MotionModel.reanchor` for tracks re-found after a gap (OC-SORT's
   observation-centric re-update; the tracker calls ``update`` instead when ``reanchor`` is
   off), :meth:`MotionModel.start` for new tracks and :meth:`MotionModel.remove` for dead ones.

With ego-motion compensation the tracker first calls :meth:`MotionModel.warp` with the
homography of the camera's rotation since the previous frame (:mod:`nuscmot.tracking.ego`):
every held state, including what is kept for :meth:`reanchor`, moves into the new image.

Boxes are (N, 4) float64 arrays, tlwh in pixels; ids are int64 arrays. Track ids passed to
:meth:`start` are larger than every id already held, so states stay sorted by id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from nuscmot.common.mot import SeqInfo


class MotionModel(ABC):
    """Batched per-track motion state (see the module docstring for the protocol)."""

    def __init__(self) -> None:
        self.ids = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Row index of each id in the state arrays (ids must be held)."""
        ids = np.asarray(ids, dtype=np.int64)
        rows = np.searchsorted(self.ids, ids)
        if len(ids) and (rows.max(initial=0) >= len(self.ids) or not np.array_equal(self.ids[rows], ids)):
            raise KeyError(f"unknown track id(s) {sorted(set(ids.tolist()) - set(self.ids.tolist()))}")
        return rows

    @abstractmethod
    def start(self, ids: np.ndarray, boxes: np.ndarray) -> None:
        """New tracks, first observed at ``boxes``."""

    @abstractmethod
    def predict(self, ids: np.ndarray) -> np.ndarray:
        """Advance the given tracks by one frame; returns their predicted boxes (N, 4)."""

    @abstractmethod
    def update(self, ids: np.ndarray, boxes: np.ndarray) -> None:
        """Correct the (already predicted) tracks with matched observations."""

    @abstractmethod
    def reanchor(self, ids: np.ndarray, boxes: np.ndarray, gaps: np.ndarray) -> None:
        """Re-found after ``gaps[i]`` frames without observation (>= 2): rebuild the state
        from the last observation and the new one, as if the boxes in between had been
        observed on the straight line joining them."""

    @abstractmethod
    def remove(self, ids: np.ndarray) -> None:
        """Forget tracks."""

    def warp(self, homography: np.ndarray) -> None:
        """Move every held track state through the (3, 3) pixel homography of the camera's
        rotation since the last frame (ego-motion compensation), before :meth:`predict`.
        Models that cannot be compensated keep this default and refuse."""
        raise NotImplementedError(f"{type(self).__name__} does not support ego-motion compensation")


# A fresh motion model per sequence: (the sequence's seqinfo, the path of its seqinfo.ini, named
# in errors) -> model. Each motion model's factory builds one from its config slice.
MotionFactory = Callable[["SeqInfo", Path], MotionModel]


def keep_rows(ids: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """Boolean mask over ``ids`` of the rows not in ``drop``."""
    return ~np.isin(ids, np.asarray(drop, dtype=np.int64))
