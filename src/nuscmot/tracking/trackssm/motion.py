"""The ``trackssm`` motion model: a trained TrackSSM predicting every live track in one call.

State per track: the model's input history (the last ``history`` boxes, normalised cxcywh)
and the number of frames since its last observation. ``predict`` appends the next box to the
history: the model's prediction for the first ``rollout_horizon`` frames after the last
observation (so during a short gap the model rolls forward on its own predictions, as it was
trained to), then the fallback: the last box held (``hold``), or moved by the last step's
centre displacement with its size held (``constant_velocity``). ``update`` replaces that entry
with the observation, ``reanchor`` rebuilds the history from the history at the last
observation followed by boxes interpolated to the new observation. A new track's history
repeats its first box. ``warp`` (ego-motion compensation) moves every box of the history, the
history kept at the last observation and the last observed box into the new image, so the
model predicts from a rotation-free history.

Boxes are normalised by the sequence's image size (``seqinfo.ini``), the normalisation the
model was trained with (:data:`BOX_NORMALISATION`, recorded in its checkpoint).
"""

from __future__ import annotations

import numpy as np
import torch

from nuscmot.tracking.boxes import cxcywh_to_tlwh, interpolate_boxes, tlwh_to_cxcywh
from nuscmot.tracking.ego import warp_tlwh
from nuscmot.tracking.motion import MotionModel, keep_rows
from nuscmot.tracking.trackssm.config import FALLBACKS, TrackSSMMotionConfig
from nuscmot.tracking.trackssm.model import BOX_NORMALISATION, TrackSSM

__all__ = ["BOX_NORMALISATION", "TrackSSMMotion", "TrackSSMMotionConfig"]


class TrackSSMMotion(MotionModel):
    def __init__(self, model: TrackSSM, img_w: float, img_h: float, jit: bool = True,
                 rollout_horizon: int = 3, rollout_fallback: str = "hold"):
        super().__init__()
        if rollout_fallback not in FALLBACKS or rollout_horizon < 1:
            raise ValueError(f"bad rollout cap {rollout_horizon!r} / {rollout_fallback!r}")
        self.model = model.eval()
        self.device = next(model.parameters()).device
        self._predict = model.traced_predictor(self.device) if jit else model.predict
        self.H = model.cfg.history
        self.horizon = int(rollout_horizon)
        self.fallback = rollout_fallback
        self.scale = np.array([img_w, img_h, img_w, img_h], dtype=np.float64)
        self.hist = np.zeros((0, self.H, 4))  # model input, normalised cxcywh
        self.missed = np.zeros(0, dtype=np.int64)  # frames predicted since the last observation
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
        self.missed = np.concatenate([self.missed, np.zeros(len(ids), dtype=np.int64)])
        self.obs_hist = np.concatenate([self.obs_hist, hist])
        self.obs_box = np.concatenate([self.obs_box, boxes])

    def predict(self, ids: np.ndarray) -> np.ndarray:
        r = self.rows(ids)
        if not len(r):
            return np.zeros((0, 4))
        self.missed[r] += 1
        learned = self.missed[r] <= self.horizon
        if learned.all():
            pred = self._model(self.hist[r])
        else:
            pred = self._fallback(self.hist[r])
            if learned.any():
                pred[learned] = self._model(self.hist[r[learned]])
        self.hist[r, :-1] = self.hist[r, 1:]
        self.hist[r, -1] = pred
        return cxcywh_to_tlwh(pred * self.scale)

    def _model(self, hist: np.ndarray) -> np.ndarray:
        out = self._predict(torch.from_numpy(hist).to(self.device, torch.float32))
        return out.to("cpu", torch.float64).numpy()

    def _fallback(self, hist: np.ndarray) -> np.ndarray:
        """Next boxes past the rollout horizon: the last box, moved by the last step's centre
        displacement for ``constant_velocity``."""
        pred = hist[:, -1].copy()
        if self.fallback == "constant_velocity":
            pred[:, :2] += hist[:, -1, :2] - hist[:, -2, :2]
        return pred

    def update(self, ids: np.ndarray, boxes: np.ndarray) -> None:
        r = self.rows(ids)
        if not len(r):
            return
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.hist[r, -1] = self._norm(boxes)
        self.missed[r] = 0
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
        self.missed[r] = 0
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
        for name in ("ids", "hist", "missed", "obs_hist", "obs_box"):
            setattr(self, name, getattr(self, name)[keep])
