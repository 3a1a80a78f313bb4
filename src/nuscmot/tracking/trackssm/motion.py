"""The ``trackssm`` motion model: a trained TrackSSM predicting every live track in one call.

State per track: the model's input history (the last ``history`` boxes, normalised cxcywh).
``predict`` appends the model's prediction (so during a gap the model rolls forward on its own
predictions), ``update`` replaces that entry with the observation, ``reanchor`` rebuilds the
history from the history at the last observation followed by boxes interpolated to the new
observation. A new track's history repeats its first box. ``warp`` (ego-motion compensation)
moves every box of the history, the history kept at the last observation and the last
observed box into the new image, so the model predicts from a rotation-free history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nuscmot.tracking.boxes import cxcywh_to_tlwh, interpolate_boxes, tlwh_to_cxcywh
from nuscmot.tracking.ego import warp_tlwh
from nuscmot.tracking.motion import MotionModel, keep_rows
from nuscmot.tracking.trackssm.model import TrackSSM


class TrackSSMMotion(MotionModel):
    def __init__(self, model: TrackSSM, img_w: float, img_h: float, jit: bool = True):
        super().__init__()
        self.model = model.eval()
        self.device = next(model.parameters()).device
        self._predict = model.traced_predictor(self.device) if jit else model.predict
        self.H = model.cfg.history
        self.scale = np.array([img_w, img_h, img_w, img_h], dtype=np.float64)
        self.hist = np.zeros((0, self.H, 4))  # model input, normalised cxcywh
        self.obs_hist = np.zeros((0, self.H, 4))  # history right after the last observation
        self.obs_box = np.zeros((0, 4))  # last observed box, tlwh px

    def _norm(self, tlwh: np.ndarray) -> np.ndarray:
        return tlwh_to_cxcywh(tlwh) / self.scale

    def start(self, ids: np.ndarray, boxes: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        hist = np.repeat(self._norm(boxes)[:, None, :], self.H, axis=1)
        self.ids = np.concatenate([self.ids, ids])
        self.hist = np.concatenate([self.hist, hist])
        self.obs_hist = np.concatenate([self.obs_hist, hist])
        self.obs_box = np.concatenate([self.obs_box, boxes])

    def predict(self, ids: np.ndarray) -> np.ndarray:
        r = self.rows(ids)
        if not len(r):
            return np.zeros((0, 4))
        hist = torch.from_numpy(self.hist[r]).to(self.device, torch.float32)
        pred = self._predict(hist).to("cpu", torch.float64).numpy()
        self.hist[r, :-1] = self.hist[r, 1:]
        self.hist[r, -1] = pred
        return cxcywh_to_tlwh(pred * self.scale)

    def update(self, ids: np.ndarray, boxes: np.ndarray) -> None:
        r = self.rows(ids)
        if not len(r):
            return
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.hist[r, -1] = self._norm(boxes)
        self.obs_hist[r] = self.hist[r]
        self.obs_box[r] = boxes

    def reanchor(self, ids: np.ndarray, boxes: np.ndarray, gaps: np.ndarray) -> None:
        r = self.rows(ids)
        if not len(r):
            return
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        gaps = np.asarray(gaps, dtype=np.int64).reshape(-1)
        virtual = self._norm(interpolate_boxes(self.obs_box[r], boxes, gaps))  # (n, max gap, 4)
        seq = np.concatenate([self.obs_hist[r], virtual], axis=1)
        idx = gaps[:, None] + np.arange(self.H)[None, :]
        self.hist[r] = np.take_along_axis(seq, idx[..., None], axis=1)
        self.obs_hist[r] = self.hist[r]
        self.obs_box[r] = boxes

    def warp(self, homography: np.ndarray) -> None:
        if not len(self.ids):
            return
        for name in ("hist", "obs_hist"):
            hist = getattr(self, name)
            px = cxcywh_to_tlwh(hist.reshape(-1, 4) * self.scale)
            setattr(self, name, self._norm(warp_tlwh(px, homography)).reshape(hist.shape))
        self.obs_box = warp_tlwh(self.obs_box, homography)

    def remove(self, ids: np.ndarray) -> None:
        keep = keep_rows(self.ids, ids)
        if keep.all():
            return
        for name in ("ids", "hist", "obs_hist", "obs_box"):
            setattr(self, name, getattr(self, name)[keep])


@dataclass(frozen=True)
class TrackSSMMotionConfig:
    """The ``tracking.motion.trackssm`` config slice."""

    device: str = "auto"  # auto | cpu | cuda
    jit: bool = True  # run a frozen TorchScript trace of the model (same ops, less overhead)
