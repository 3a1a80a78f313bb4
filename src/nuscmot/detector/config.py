"""Typed config slices of the detector stages (``detector``, ``evaluate_detector``, ``infer``).

Field names mirror ``config.yaml``; ``workflow/schemas/detector.schema.yaml`` documents them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nuscmot.common.config import from_dict
from nuscmot.common.device import check_device
from nuscmot.common.errors import InputError

# depth / width multipliers of the official YOLOX exps; nano also uses depthwise convs.
MODEL_SIZES: dict[str, tuple[float, float]] = {
    "yolox_nano": (0.33, 0.25),
    "yolox_tiny": (0.33, 0.375),
    "yolox_s": (0.33, 0.50),
    "yolox_m": (0.67, 0.75),
    "yolox_l": (1.0, 1.0),
    "yolox_x": (1.33, 1.25),
}


@dataclass(frozen=True)
class DetectorConfig:
    """The ``detector`` slice: model, data, augmentation and the two-phase schedule."""

    model: str = "yolox_l"
    num_classes: int = 7
    pretrained: str = ""
    pretrained_sha256: str = ""   # when set, the pretrained file must have this digest
    allow_scratch: bool = False
    input_size: tuple[int, int] = (640, 640)  # (h, w)
    multiscale_range: int = 5
    batch_size: int = 8
    workers: int = 2
    threads: int = 0
    freeze_epochs: int = 15
    unfreeze_epochs: int = 15
    warmup_epochs: int = 1
    basic_lr_per_img: float = 0.01 / 64
    min_lr_ratio: float = 0.05
    weight_decay: float = 5e-4
    momentum: float = 0.9
    no_aug_epochs: int = 2
    ema: bool = True
    amp: bool = True
    eval_interval: int = 5
    keep_epoch_ckpts: int = 2
    mosaic_prob: float = 1.0
    mixup_prob: float = 1.0
    hsv_prob: float = 1.0
    flip_prob: float = 0.5
    degrees: float = 10.0
    translate: float = 0.1
    shear: float = 2.0
    mosaic_scale: tuple[float, float] = (0.5, 1.5)
    mixup_scale: tuple[float, float] = (0.5, 1.5)
    max_train_images: int = 0
    max_iters_per_epoch: int = 0
    max_val_images: int = 0
    seed: int = 0

    @property
    def total_epochs(self) -> int:
        return self.freeze_epochs + self.unfreeze_epochs

    def validate(self, where: str = "detector") -> "DetectorConfig":
        if self.model not in MODEL_SIZES:
            raise InputError(where, f"unknown model {self.model!r} (one of {', '.join(MODEL_SIZES)})", key="model")
        h, w = self.input_size
        if h % 32 or w % 32 or h < 32 or w < 32:
            raise InputError(where, f"input_size {list(self.input_size)} must be multiples of 32", key="input_size")
        if self.total_epochs < 1:
            raise InputError(where, "freeze_epochs + unfreeze_epochs must be >= 1", key="unfreeze_epochs")
        if self.batch_size < 1 or self.num_classes < 1:
            raise InputError(where, "batch_size and num_classes must be >= 1", key="batch_size")
        if min(h, w) // 32 - self.multiscale_range < 1:
            raise InputError(where, "multiscale_range too large for input_size", key="multiscale_range")
        return self


@dataclass(frozen=True)
class EvalConfig:
    """The ``evaluate_detector`` slice."""

    num_classes: int = 7
    conf_threshold: float = 0.001
    nms_threshold: float = 0.65
    batch_size: int = 8
    workers: int = 2
    threads: int = 0
    device: str = "auto"


@dataclass(frozen=True)
class InferConfig:
    """The ``infer`` slice (``checkpoint`` picks the rule's input file; unused here)."""

    checkpoint: str = "best"
    num_classes: int = 7
    conf_threshold: float = 0.1
    nms_threshold: float = 0.65
    batch_size: int = 8
    workers: int = 2
    threads: int = 0
    fp16: bool = True
    device: str = "auto"


def detector_config(params: dict[str, Any], where: str = "--params") -> DetectorConfig:
    return from_dict(DetectorConfig, params.get("cfg", params), where=f"{where}:detector").validate(where)


def eval_config(params: dict[str, Any], where: str = "--params") -> EvalConfig:
    cfg = from_dict(EvalConfig, params.get("cfg", params), where=f"{where}:evaluate_detector")
    check_device(cfg.device, where)
    return cfg


def infer_config(params: dict[str, Any], where: str = "--params") -> InferConfig:
    cfg = from_dict(InferConfig, params.get("cfg", params), where=f"{where}:infer")
    check_device(cfg.device, where)
    return cfg


def set_cpu_threads(threads: int) -> None:
    """Torch intra-op threads of this process (0: keep torch's default, one per core).

    On a small shared machine 1 is often much faster than 2: OpenMP threads wait for each
    other at every op, so one descheduled thread stalls the whole step.
    """
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def model_config(cfg: DetectorConfig) -> dict[str, Any]:
    """What a checkpoint must carry to rebuild the network without the training slice."""
    depth, width = MODEL_SIZES[cfg.model]
    return {
        "model": cfg.model,
        "num_classes": cfg.num_classes,
        "input_size": list(cfg.input_size),
        "depth": depth,
        "width": width,
        "depthwise": cfg.model == "yolox_nano",
        "act": "silu",
    }

