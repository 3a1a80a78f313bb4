"""TrackSSM checkpoints: weights, the model config they were built with, and what the model's
inputs meant in training (:class:`TrainedOn`: frame rate, image sizes, box normalisation).

A checkpoint is a plain dict (``torch.load(weights_only=True)``-safe)::

    {"format": "nuscmot-trackssm", "version": 2, "model": <ModelConfig dict>,
     "trained_on": {"frame_rate": 2.0, "image_sizes": [[800, 450]],
                    "normalisation": {"boxes": "cxcywh / image size", "feat_mean": [...],
                                      "feat_std": [...], "offset_scale": [...]}},
     "state_dict": {...}, "meta": {...}}

Loading anything else, weights that do not fit the stored config, or a version-1 checkpoint
(which recorded no frame rate or image size: it has to be retrained) is an InputError naming
the file. A model runs on a sequence only at its training frame rate (within
:data:`RATE_TOLERANCE`) and image size(s), see :func:`geometry_mismatch`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nuscmot.common.errors import InputError
from nuscmot.common.io import save_torch
from nuscmot.tracking.trackssm.model import BOX_NORMALISATION, ModelConfig, TrackSSM

FORMAT = "nuscmot-trackssm"
VERSION = 2
RATE_TOLERANCE = 0.05  # relative: nuScenes keyframes are 2 Hz on average, not exactly
SIZE_TOLERANCE = 0.01  # relative, each side: cameras of one rig cropped a few pixels differently (KITTI)


@dataclass(frozen=True)
class TrainedOn:
    """The training data's frame rate (frames/s), image sizes ((w, h) px) and box normalisation."""

    frame_rate: float
    image_sizes: tuple[tuple[int, int], ...]
    normalisation: str = BOX_NORMALISATION

    def to_dict(self, model: TrackSSM) -> dict[str, Any]:
        stats = {k: getattr(model, k).tolist() for k in ("feat_mean", "feat_std", "offset_scale")}
        return {"frame_rate": self.frame_rate, "image_sizes": [list(s) for s in self.image_sizes],
                "normalisation": {"boxes": self.normalisation, **stats}}

    @classmethod
    def from_dict(cls, raw: Any) -> "TrainedOn":
        """Raises ValueError on anything malformed."""
        rate, sizes, norm = raw["frame_rate"], raw["image_sizes"], raw["normalisation"]["boxes"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < math.inf:
            raise ValueError(f"frame_rate {rate!r}")
        pairs = tuple((int(w), int(h)) for w, h in sizes)
        if not pairs or any(w <= 0 or h <= 0 for w, h in pairs) or not isinstance(norm, str):
            raise ValueError(f"image_sizes {sizes!r}")
        return cls(float(rate), pairs, norm)


def save_checkpoint(path: str | Path, model: TrackSSM, trained_on: TrainedOn, meta: dict[str, Any] | None = None) -> None:
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "version": VERSION, "model": model.cfg.to_dict(), "trained_on": trained_on.to_dict(model),
               "state_dict": state, "meta": meta or {}}
    save_torch(payload, path)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[TrackSSM, TrainedOn, dict[str, Any]]:
    """Model in eval mode on ``device``, what it was trained on, and the checkpoint's ``meta``."""
    path = Path(path)
    payload = _read_payload(path)
    try:
        trained_on = TrainedOn.from_dict(payload.get("trained_on"))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(path, f"TrackSSM checkpoint has no valid trained_on record ({exc})") from None
    if trained_on.normalisation != BOX_NORMALISATION:
        raise InputError(path, f"TrackSSM checkpoint normalises boxes as {trained_on.normalisation!r}, "
                               f"this tracker as {BOX_NORMALISATION!r}")
    raw = payload.get("model")
    names = {f.name for f in dataclasses.fields(ModelConfig)}
    if not isinstance(raw, dict) or set(raw) - names:
        raise InputError(path, "TrackSSM checkpoint has a missing or unknown model config")
    try:
        cfg = ModelConfig(**raw)
        model = TrackSSM(cfg)
        model.load_state_dict(payload.get("state_dict") or {}, strict=True)
    except (TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"TrackSSM weights do not match the checkpoint's model config ({first})") from None
    model.eval().to(device)
    return model, trained_on, dict(payload.get("meta") or {})


def _read_payload(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(path, "missing TrackSSM checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for non-checkpoints
        raise InputError(path, f"not a TrackSSM checkpoint (cannot be loaded: {type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(path, f"not a TrackSSM checkpoint (no '{FORMAT}' format tag)")
    if payload.get("version") == 1:
        raise InputError(path, "TrackSSM checkpoint version 1 records no frame rate or image size; "
                               "retrain it (snakemake train_trackssm)")
    if payload.get("version") != VERSION:
        raise InputError(path, f"TrackSSM checkpoint version {payload.get('version')!r}, expected {VERSION}")
    return payload


def geometry_mismatch(trained_on: TrainedOn, frame_rate: float, width: int, height: int) -> str | None:
    """What differs between a sequence (its ``seqinfo.ini`` frame rate and image size) and the
    model's training data, or None: a rate off by more than :data:`RATE_TOLERANCE` (relative),
    a size no training size is within :data:`SIZE_TOLERANCE` of on both sides (boxes are
    normalised by the image size: KITTI's 1242x375 and 1238x374 are one camera, 800x450 and
    1600x900 are not)."""
    problems = []
    if abs(frame_rate / trained_on.frame_rate - 1.0) > RATE_TOLERANCE:
        problems.append(f"frameRate {frame_rate:g} Hz but the TrackSSM model was trained at {trained_on.frame_rate:g} Hz")
    if not any(abs(width / w - 1.0) <= SIZE_TOLERANCE and abs(height / h - 1.0) <= SIZE_TOLERANCE
               for w, h in trained_on.image_sizes):
        sizes = ", ".join(f"{w}x{h}" for w, h in trained_on.image_sizes)
        problems.append(f"image size {width}x{height} but the TrackSSM model was trained on {sizes}")
    return "; ".join(problems) or None


