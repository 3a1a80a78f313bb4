"""The one device policy of every stage that runs torch (detector, TrackSSM training and tracking).

``auto`` takes CUDA when present, else the CPU; ``cuda`` without a GPU is a one-line config
error (never a silent fall-back to the CPU); anything else is refused.
"""

from __future__ import annotations

from typing import Any

from nuscmot.common.errors import InputError

DEVICES = ("auto", "cpu", "cuda")


def check_device(device: str, where: str) -> None:
    """Refuse a device name outside :data:`DEVICES` (config validation, before torch loads)."""
    if device not in DEVICES:
        raise InputError(where, f"device must be one of {', '.join(DEVICES)}, got {device!r}", key="device")


def resolve_device(device: str, where: str = "config") -> Any:
    """The ``torch.device`` for a config value (see the module docstring)."""
    import torch

    check_device(device, where)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError(where, "device: cuda requested but CUDA is not available", key="device")
    return torch.device(device)
