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
:data:`RATE_TOLERANCE`) and image size(s) (within ``size_tolerance`` per side), unless the
config's override for that mismatch is set, see :func:`check_geometry`.
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


def rate_mismatch(trained_on: TrainedOn, frame_rate: float) -> str | None:
    """A frame rate off the training rate by more than :data:`RATE_TOLERANCE` (relative), or None."""
    if abs(frame_rate / trained_on.frame_rate - 1.0) > RATE_TOLERANCE:
        return f"frameRate {frame_rate:g} Hz but the TrackSSM model was trained at {trained_on.frame_rate:g} Hz"
    return None


def nearest_size(trained_on: TrainedOn, width: int, height: int, tolerance: float) -> tuple[int, int] | None:
    """The training size that ``width`` x ``height`` is within ``tolerance`` (relative, each side)
    of (an exact match first), or None."""
    if (width, height) in trained_on.image_sizes:
        return width, height
    near = [(max(abs(width / w - 1.0), abs(height / h - 1.0)), (w, h)) for w, h in trained_on.image_sizes]
    off, size = min(near)
    return size if off <= tolerance + 1e-12 else None


def size_mismatch(trained_on: TrainedOn, width: int, height: int, tolerance: float = 0.0) -> str | None:
    """An image size farther than ``tolerance`` (relative, per side) from every training size, or None."""
    if nearest_size(trained_on, width, height, tolerance) is not None:
        return None
    sizes = ", ".join(f"{w}x{h}" for w, h in trained_on.image_sizes)
    within = f", beyond size_tolerance {tolerance:g}" if tolerance > 0 else ""
    return f"image size {width}x{height} but the TrackSSM model was trained on {sizes}{within}"


def geometry_mismatch(trained_on: TrainedOn, frame_rate: float, width: int, height: int,
                      size_tolerance: float = 0.0) -> str | None:
    """What differs between a sequence (its ``seqinfo.ini`` frame rate and image size) and the
    model's training data, or None (:func:`rate_mismatch`, :func:`size_mismatch`)."""
    problems = [rate_mismatch(trained_on, frame_rate), size_mismatch(trained_on, width, height, size_tolerance)]
    return "; ".join(p for p in problems if p) or None


def check_geometry(trained_on: TrainedOn, info: Any, seqinfo: Path, cfg: Any, model_path: Any) -> None:
    """Refuse a sequence (``info``: its SeqInfo) the model was not trained for: one InputError
    naming ``seqinfo``, each problem with the override that allows it
    (``cfg``: :class:`nuscmot.tracking.trackssm.config.TrackSSMMotionConfig`); an allowed or
    tolerated difference is logged."""
    import logging

    log = logging.getLogger(__name__)
    key = "tracking.motion.trackssm"
    checks = ((rate_mismatch(trained_on, info.frame_rate), "allow_rate_mismatch"),
              (size_mismatch(trained_on, info.width, info.height, cfg.size_tolerance), "allow_size_mismatch"))
    refused = [(p, o) for p, o in checks if p and not getattr(cfg, o)]
    if refused:
        overrides = " and ".join(f"{key}.{o}: true" for _, o in refused)
        raise InputError(seqinfo, f"{'; '.join(p for p, _ in refused)} ({model_path}); retrain TrackSSM on such data "
                                  f"or set {overrides}")
    for problem, override in checks:
        if problem:
            log.warning("%s: %s (%s); tracking anyway (%s)", seqinfo, problem, model_path, override)
    near = nearest_size(trained_on, info.width, info.height, cfg.size_tolerance)
    if near is not None and near != (info.width, info.height):
        log.info("%s: image size %dx%d is within size_tolerance %g of the training size %dx%d (%s)",
                 seqinfo, info.width, info.height, cfg.size_tolerance, near[0], near[1], model_path)


