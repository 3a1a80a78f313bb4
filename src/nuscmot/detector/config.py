"""Typed config slices of the detector stages (``detector``, ``evaluate_detector``, ``infer``).

Field names mirror ``config.yaml``. These dataclasses are the one home of the defaults and
of the limits (ranges, choices) of every key; ``workflow/schemas/detector.schema.yaml``
repeats them for Snakemake's validation, and a test fails on any difference. The
``detector`` defaults are the full-size recipe (input 896x1600, multiscale 736..1056,
lr 0.0005 per 64 images, mosaic 0.7, mixup 0.4); ``config.yaml`` sets every key itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nuscmot.common.config import from_dict
from nuscmot.common.device import DEVICES
from nuscmot.common.errors import InputError
from nuscmot.common.fields import AT_LEAST_0, AT_LEAST_1, POSITIVE, UNIT, check_fields, limited

# depth / width multipliers of the official YOLOX exps; nano also uses depthwise convs.
MODEL_SIZES: dict[str, tuple[float, float]] = {
    "yolox_nano": (0.33, 0.25),
    "yolox_tiny": (0.33, 0.375),
    "yolox_s": (0.33, 0.50),
    "yolox_m": (0.67, 0.75),
    "yolox_l": (1.0, 1.0),
    "yolox_x": (1.33, 1.25),
}
CHECKPOINTS = ("best", "latest")

HW = {"items": {"minimum": 32, "multipleOf": 32}}
POSITIVE_PAIR = {"items": POSITIVE}
SHA256 = {"pattern": "^([0-9a-fA-F]{64})?$"}


@dataclass(frozen=True)
class DetectorConfig:
    """The ``detector`` slice: model, data, augmentation and the two-phase schedule."""

    model: str = limited("yolox_l", enum=tuple(MODEL_SIZES))
    num_classes: int = limited(7, **AT_LEAST_1)
    pretrained: str = ""
    pretrained_sha256: str = limited("", **SHA256)   # when set, the pretrained file must have this digest
    allow_scratch: bool = False
    input_size: tuple[int, int] = limited((896, 1600), **HW)  # (h, w)
    multiscale_range: int = limited(5, minimum=0, maximum=10)  # +- steps of 32 px on the height: 736..1056
    batch_size: int = limited(8, **AT_LEAST_1)
    workers: int = limited(2, **AT_LEAST_0)
    threads: int = limited(0, **AT_LEAST_0)
    freeze_epochs: int = limited(15, **AT_LEAST_0)
    unfreeze_epochs: int = limited(15, **AT_LEAST_0)
    warmup_epochs: int = limited(1, **AT_LEAST_0)
    basic_lr_per_img: float = limited(0.0005 / 64, exclusiveMinimum=0)
    min_lr_ratio: float = limited(0.05, **UNIT)
    weight_decay: float = limited(5e-4, **AT_LEAST_0)
    momentum: float = limited(0.9, **UNIT)
    no_aug_epochs: int = limited(2, **AT_LEAST_0)
    ema: bool = True
    amp: bool = True
    eval_interval: int = limited(5, **AT_LEAST_1)
    eval_conf_threshold: float = limited(0.001, **UNIT)  # score threshold of the in-training evaluation
    eval_nms_threshold: float = limited(0.65, **UNIT)    # NMS IoU threshold of the in-training evaluation
    keep_epoch_ckpts: int = limited(2, **AT_LEAST_0)
    mosaic_prob: float = limited(0.7, **UNIT)
    mixup_prob: float = limited(0.4, **UNIT)
    hsv_prob: float = limited(0.5, **UNIT)
    flip_prob: float = limited(0.5, **UNIT)
    degrees: float = limited(5.0, minimum=0, maximum=180)
    translate: float = limited(0.1, **UNIT)
    shear: float = limited(2.0, minimum=0, maximum=45)
    mosaic_scale: tuple[float, float] = limited((0.5, 1.5), **POSITIVE_PAIR)
    mixup_scale: tuple[float, float] = limited((0.5, 1.5), **POSITIVE_PAIR)
    max_train_images: int = limited(0, **AT_LEAST_0)
    max_iters_per_epoch: int = limited(0, **AT_LEAST_0)
    max_val_images: int = limited(0, **AT_LEAST_0)
    seed: int = limited(0, **AT_LEAST_0)

    @property
    def total_epochs(self) -> int:
        return self.freeze_epochs + self.unfreeze_epochs

    def validate(self, where: str = "detector") -> "DetectorConfig":
        """Every field within its limits (model, input_size multiples of 32, ...), then what
        no single field says: at least one epoch, and a multiscale range the input fits."""
        check_fields(self, where)
        if self.total_epochs < 1:
            raise InputError(where, "freeze_epochs + unfreeze_epochs must be >= 1", key="unfreeze_epochs")
        if min(self.input_size) // 32 - self.multiscale_range < 1:
            raise InputError(where, "multiscale_range too large for input_size", key="multiscale_range")
        return self


@dataclass(frozen=True)
class EvalConfig:
    """The ``evaluate_detector`` slice."""

    num_classes: int = limited(7, **AT_LEAST_1)
    conf_threshold: float = limited(0.001, **UNIT)
    nms_threshold: float = limited(0.65, **UNIT)
    batch_size: int = limited(8, **AT_LEAST_1)
    workers: int = limited(2, **AT_LEAST_0)
    threads: int = limited(0, **AT_LEAST_0)
    device: str = limited("auto", enum=DEVICES)


@dataclass(frozen=True)
class InferConfig:
    """The ``infer`` slice (``checkpoint`` picks the rule's input file; unused here)."""

    checkpoint: str = limited("best", enum=CHECKPOINTS)
    num_classes: int = limited(7, **AT_LEAST_1)
    conf_threshold: float = limited(0.1, **UNIT)
    nms_threshold: float = limited(0.65, **UNIT)
    batch_size: int = limited(8, **AT_LEAST_1)
    workers: int = limited(2, **AT_LEAST_0)
    threads: int = limited(0, **AT_LEAST_0)
    fp16: bool = True
    device: str = limited("auto", enum=DEVICES)


def detector_config(params: dict[str, Any], where: str = "--params") -> DetectorConfig:
    return from_dict(DetectorConfig, params.get("cfg", params), where=f"{where}:detector").validate(where)


def _checked_slice(cls: type, params: dict[str, Any], where: str, name: str) -> Any:
    cfg = from_dict(cls, params.get("cfg", params), where=f"{where}:{name}")
    check_fields(cfg, where)  # device too: its enum is DEVICES (check_device's words)
    return cfg


def eval_config(params: dict[str, Any], where: str = "--params") -> EvalConfig:
    return _checked_slice(EvalConfig, params, where, "evaluate_detector")


def infer_config(params: dict[str, Any], where: str = "--params") -> InferConfig:
    return _checked_slice(InferConfig, params, where, "infer")


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

