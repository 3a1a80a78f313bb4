"""TrackSSM checkpoints: weights plus the model config they were built with.

A checkpoint is a plain dict (``torch.load(weights_only=True)``-safe)::

    {"format": "nuscmot-trackssm", "version": 1, "model": <ModelConfig dict>,
     "state_dict": {...}, "meta": {...}}

Loading anything else, or weights that do not fit the stored config, is an InputError naming
the file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from nuscmot.common.errors import InputError
from nuscmot.common.io import save_torch
from nuscmot.tracking.trackssm.model import ModelConfig, TrackSSM

FORMAT = "nuscmot-trackssm"
VERSION = 1


def save_checkpoint(path: str | Path, model: TrackSSM, meta: dict[str, Any] | None = None) -> None:
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "version": VERSION, "model": model.cfg.to_dict(), "state_dict": state, "meta": meta or {}}
    save_torch(payload, path)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[TrackSSM, dict[str, Any]]:
    """Model in eval mode on ``device``, and the checkpoint's ``meta``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "missing TrackSSM checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for non-checkpoints
        raise InputError(path, f"not a TrackSSM checkpoint (cannot be loaded: {type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(path, f"not a TrackSSM checkpoint (no '{FORMAT}' format tag)")
    if payload.get("version") != VERSION:
        raise InputError(path, f"TrackSSM checkpoint version {payload.get('version')!r}, expected {VERSION}")
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
    return model, dict(payload.get("meta") or {})


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; ``cuda`` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("tracking.motion.trackssm", "device 'cuda' requested but CUDA is not available", key="device")
    if device not in ("cpu", "cuda"):
        raise InputError("tracking.motion.trackssm", f"unknown device {device!r} (auto | cpu | cuda)", key="device")
    return torch.device(device)
