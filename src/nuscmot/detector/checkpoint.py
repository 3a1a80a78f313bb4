"""Checkpoints: exported models (best/latest), resumable training state, pretrained weights.

An exported checkpoint is YOLOX's format (``{"model": state_dict}``, so YOLOX's own tools
load it) plus ``model_config`` (model size, num_classes, input size, depth/width), so
evaluation and inference rebuild the network from the file alone. Every write is atomic.
Files are read with ``torch.load(weights_only=True)``: plain tensors and containers only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from nuscmot.common.errors import InputError
from nuscmot.common.io import save_torch
from nuscmot.detector.config import MODEL_SIZES, DetectorConfig

log = logging.getLogger(__name__)

FORMAT = "nuscmot-yolox/1"
MODEL_CONFIG_KEYS = ("model", "num_classes", "input_size")


def save(obj: dict[str, Any], path: str | Path) -> None:
    """``torch.save`` through a temp file + rename; a failed write is one line naming ``path``."""
    save_torch(obj, path)


def load(path: str | Path, what: str = "checkpoint") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"missing {what}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip/unsupported-global errors all mean "not ours"
        reason = " ".join(str(exc).split())[:160]
        raise InputError(path, f"not a readable torch {what} ({type(exc).__name__}: {reason})") from None
    if not isinstance(obj, dict):
        raise InputError(path, f"not a {what} (a {type(obj).__name__}, expected a dict)")
    return obj


def export(path: str | Path, state_dict: dict[str, torch.Tensor], model_config: dict[str, Any],
           **meta: Any) -> None:
    save({"model": state_dict, "model_config": dict(model_config), "format": FORMAT, **meta}, path)


def read_model(path: str | Path, expected_num_classes: int | None = None) -> dict[str, Any]:
    """An exported checkpoint, checked: has weights, a model config, the expected classes."""
    ckpt = load(path)
    sd = ckpt.get("model")
    if not isinstance(sd, dict) or not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise InputError(path, "not a model checkpoint (no 'model' state_dict of tensors)")
    cfg = ckpt.get("model_config")
    if not isinstance(cfg, dict) or not all(k in cfg for k in MODEL_CONFIG_KEYS):
        raise InputError(path, "checkpoint lacks its model_config (not trained by nuscmot.stages.train?)")
    if cfg["model"] not in MODEL_SIZES:
        raise InputError(path, f"unknown model {cfg['model']!r} in model_config")
    if expected_num_classes is not None and int(cfg["num_classes"]) != expected_num_classes:
        raise InputError(path, f"checkpoint has {cfg['num_classes']} classes, expected {expected_num_classes}")
    return ckpt


def build_model(model_config: dict[str, Any]) -> nn.Module:
    """The (untrained) network a ``model_config`` describes."""
    from nuscmot.detector.exp import NuscExp

    cfg = DetectorConfig(model=model_config["model"], num_classes=int(model_config["num_classes"]),
                         input_size=tuple(model_config["input_size"]), multiscale_range=0)
    return NuscExp(cfg).get_model()


def load_model(path: str | Path, expected_num_classes: int | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode on CPU, checkpoint dict) from an exported checkpoint."""
    ckpt = read_model(path, expected_num_classes)
    model = build_model(ckpt["model_config"])
    try:
        model.load_state_dict(ckpt["model"], strict=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).split())[:200]
        raise InputError(path, f"weights do not match model_config {ckpt['model_config']['model']} ({first})") from None
    model.eval()
    return model, ckpt


def pretrained_state_dict(path: str | Path) -> dict[str, Any]:
    """The ``model`` state dict of an official YOLOX checkpoint; InputError when the file is
    missing, unreadable or holds no tensors."""
    ckpt = load(path, "pretrained checkpoint")
    sd = ckpt.get("model", ckpt)
    if not isinstance(sd, dict) or not any(isinstance(v, torch.Tensor) for v in sd.values()):
        raise InputError(path, "not a YOLOX checkpoint (expected {'model': state_dict})")
    return sd


def load_pretrained(model: nn.Module, path: str | Path) -> tuple[list[str], list[str]]:
    """Load an official YOLOX checkpoint (``{"model": state_dict}``) where shapes match.

    Tensors whose shape differs (the 80-class head vs our 7 classes) or that the file lacks
    are skipped and logged. Returns ``(loaded, skipped)`` key lists. A file that matches
    less than half of the backbone is an InputError (wrong model size).
    """
    sd = pretrained_state_dict(path)
    own = model.state_dict()
    loaded, skipped, usable = [], [], {}
    for key, value in own.items():
        theirs = sd.get(key)
        if isinstance(theirs, torch.Tensor) and theirs.shape == value.shape:
            usable[key] = theirs
            loaded.append(key)
        else:
            why = "missing" if theirs is None else f"shape {tuple(theirs.shape)} vs {tuple(value.shape)}"
            skipped.append(f"{key} ({why})")
    darknet = [k for k in own if k.startswith("backbone.backbone.") and not k.endswith("num_batches_tracked")]
    matched = set(loaded) & set(darknet)
    if len(matched) < len(darknet) / 2:
        raise InputError(path, f"only {len(matched)}/{len(darknet)} backbone tensors match the configured model "
                               "(wrong model size?)")
    model.load_state_dict(usable, strict=False)
    log.info("pretrained %s: loaded %d/%d tensors, skipped %d", path, len(loaded), len(own), len(skipped))
    for item in skipped:
        log.info("  skipped %s", item)
    return loaded, skipped
