"""A ``yolox.exp.Exp`` built from the ``detector`` config slice, plus backbone freezing.

The network, losses, augmentation, EMA and LR schedule are YOLOX's own; what this module
changes is only what YOLOX hard-wires to CUDA or to its COCO folder layout:

- :meth:`NuscExp.get_data_loader` reads our COCO JSON (:class:`~.data.CocoJsonDataset`)
  through YOLOX's ``MosaicDetection``/``TrainTransform`` and a seeded ``YoloBatchSampler``;
- :meth:`NuscExp.random_resize` draws the multiscale size on the CPU from a seeded RNG
  (YOLOX's version allocates a CUDA tensor);
- :meth:`NuscExp.get_optimizer` applies YOLOX's pg0/pg1/pg2 split to trainable
  parameters only, and :func:`add_param_groups` adds the backbone's at the phase switch.
"""

from __future__ import annotations

import random
from typing import Any, Iterable

import torch
import torch.nn as nn

import nuscmot.detector  # noqa: F401  (makes yolox importable)
from nuscmot.detector.config import MODEL_SIZES, DetectorConfig
from yolox.exp import Exp
from yolox.models import YOLOPAFPN, YOLOX, YOLOXHead


class NuscYOLOX(YOLOX):
    """YOLOX whose CSPDarknet can be frozen: no grads, and its BatchNorms stay in eval mode
    (running stats untouched) even when ``model.train()`` is called."""

    def __init__(self, backbone: YOLOPAFPN, head: YOLOXHead):
        super().__init__(backbone, head)
        self.backbone_frozen = False

    @property
    def darknet(self) -> nn.Module:
        return self.backbone.backbone

    def freeze_backbone(self, frozen: bool) -> None:
        self.backbone_frozen = frozen
        for p in self.darknet.parameters():
            p.requires_grad_(not frozen)
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.backbone_frozen:
            self.darknet.eval()
        return self


def trainable_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def yolox_param_groups(model: nn.Module, include: Iterable[nn.Parameter] | None = None) -> list[dict[str, Any]]:
    """YOLOX's optimizer split (``Exp.get_optimizer``): BN weights (no decay), other
    weights (decay), biases; restricted to ``include`` (default: all parameters)."""
    allowed = None if include is None else {id(p) for p in include}
    pg0, pg1, pg2 = [], [], []
    for k, v in model.named_modules():
        if hasattr(v, "bias") and isinstance(v.bias, nn.Parameter):
            pg2.append(v.bias)
        if isinstance(v, nn.BatchNorm2d) or "bn" in k:
            pg0.append(v.weight)
        elif hasattr(v, "weight") and isinstance(v.weight, nn.Parameter):
            pg1.append(v.weight)

    def keep(params):
        return [p for p in params if allowed is None or id(p) in allowed]

    return [{"params": keep(pg0), "name": "bn"}, {"params": keep(pg1), "name": "weight", "decay": True},
            {"params": keep(pg2), "name": "bias"}]


def param_groups(model: nn.Module, params: Iterable[nn.Parameter], weight_decay: float,
                 prefix: str) -> list[dict[str, Any]]:
    """Optimizer groups for ``params`` with YOLOX's split; decay only on the pg1 weights."""
    groups = []
    for group in yolox_param_groups(model, list(params)):
        decay = group.pop("decay", False)
        group["name"] = f"{prefix}.{group['name']}"
        group["weight_decay"] = weight_decay if decay else 0.0
        groups.append(group)
    return groups


def add_param_groups(optimizer: torch.optim.Optimizer, model: nn.Module, params: Iterable[nn.Parameter],
                     weight_decay: float, prefix: str) -> None:
    """Add ``params`` to ``optimizer`` (at the current LR) with YOLOX's split."""
    lr = optimizer.param_groups[0]["lr"]
    for group in param_groups(model, params, weight_decay, prefix):
        optimizer.add_param_group({**group, "lr": lr})


# DetectorConfig fields that YOLOX's ``Exp`` names alike
_SAME_NAMES = ("num_classes", "input_size", "multiscale_range", "mosaic_prob", "mixup_prob", "hsv_prob", "flip_prob",
               "degrees", "translate", "shear", "mosaic_scale", "mixup_scale", "warmup_epochs", "no_aug_epochs",
               "basic_lr_per_img", "min_lr_ratio", "weight_decay", "momentum", "ema", "eval_interval", "seed")
#: YOLOX ``Exp`` attribute -> the :class:`DetectorConfig` field (or property) it is set from.
EXP_FIELDS: dict[str, str] = {
    **{name: name for name in _SAME_NAMES},
    "test_size": "input_size",
    "data_num_workers": "workers",
    "max_epoch": "total_epochs",
    "test_conf": "eval_conf_threshold",  # the in-training evaluation's thresholds
    "nmsthre": "eval_nms_threshold",
}


def exp_attributes(cfg: DetectorConfig) -> dict[str, Any]:
    """The YOLOX ``Exp`` attributes that ``cfg`` determines: :data:`EXP_FIELDS` plus the
    model size (depth, width, depthwise), ``enable_mixup`` and the experiment name."""
    attrs = {}
    for attr, name in EXP_FIELDS.items():
        value = getattr(cfg, name)
        attrs[attr] = tuple(value) if isinstance(value, (list, tuple)) else value
    depth, width = MODEL_SIZES[cfg.model]
    attrs.update(depth=depth, width=width, depthwise=cfg.model == "yolox_nano", enable_mixup=cfg.mixup_prob > 0,
                 exp_name=f"nuscmot_{cfg.model}")
    return attrs


class NuscExp(Exp):
    """YOLOX experiment for nuscmot's 7 classes, configured from :class:`DetectorConfig`."""

    def __init__(self, cfg: DetectorConfig):
        super().__init__()
        self.cfg = cfg
        for attr, value in exp_attributes(cfg).items():
            setattr(self, attr, value)

    # ---- model -----------------------------------------------------------------------
    def get_model(self) -> NuscYOLOX:
        if getattr(self, "model", None) is None:
            in_channels = [256, 512, 1024]
            backbone = YOLOPAFPN(self.depth, self.width, in_channels=in_channels, act=self.act,
                                 depthwise=self.depthwise)
            head = YOLOXHead(self.num_classes, self.width, in_channels=in_channels, act=self.act,
                             depthwise=self.depthwise)
            self.model = NuscYOLOX(backbone, head)

            def init_yolo(m):  # as YOLOX's Exp.get_model
                for mod in m.modules():
                    if isinstance(mod, nn.BatchNorm2d):
                        mod.eps = 1e-3
                        mod.momentum = 0.03

            self.model.apply(init_yolo)
            self.model.head.initialize_biases(1e-2)
        self.model.train()
        return self.model

    # ---- data ------------------------------------------------------------------------
    def get_train_dataset(self, train_json, image_root):
        from yolox.data import MosaicDetection, TrainTransform

        from nuscmot.detector.data import CocoJsonDataset, SeededSamples

        base = CocoJsonDataset(train_json, image_root, self.input_size, self.num_classes,
                               max_images=self.cfg.max_train_images, seed=self.seed)
        mosaic = MosaicDetection(
            base,
            img_size=self.input_size,
            mosaic=True,
            preproc=TrainTransform(max_labels=120, flip_prob=self.flip_prob, hsv_prob=self.hsv_prob),
            degrees=self.degrees,
            translate=self.translate,
            mosaic_scale=self.mosaic_scale,
            mixup_scale=self.mixup_scale,
            shear=self.shear,
            enable_mixup=self.enable_mixup and base.num_boxes > 0,
            mosaic_prob=self.mosaic_prob,
            mixup_prob=self.mixup_prob,
        )
        return base, SeededSamples(mosaic)

    def get_data_loader(self, dataset, batch_size: int, *, rank: int = 0, world_size: int = 1,
                        no_aug: bool = False, pin_memory: bool = False):
        """YOLOX DataLoader over ``dataset`` (from :meth:`get_train_dataset`), sharded by rank
        like ``DistributedSampler`` and reshuffled per epoch (``batch_sampler.set_epoch``)."""
        from torch.utils.data.distributed import DistributedSampler
        from yolox.data import DataLoader

        from nuscmot.detector.data import SeededBatchSampler, collate_samples, worker_init

        per_rank = max(1, batch_size // world_size)
        sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True,
                                     seed=self.seed, drop_last=False)
        batch_sampler = SeededBatchSampler(sampler, per_rank, drop_last=len(sampler) >= per_rank,
                                           mosaic=not no_aug, seed=self.seed, rank=rank)
        workers = self.data_num_workers
        return DataLoader(
            dataset,
            batch_sampler=batch_sampler,
            num_workers=workers,
            pin_memory=pin_memory,
            persistent_workers=workers > 0,
            worker_init_fn=worker_init if workers else None,
            collate_fn=collate_samples,
        )

    def random_resize(self, data_loader=None, epoch=0, rank=0, is_distributed=False, *, step: int = 0):
        """Multiscale size for the ``step``-th resize (every 10 iterations), as YOLOX draws
        it, from a seeded CPU RNG: identical on every rank and after a resume."""
        if self.multiscale_range <= 0 or step <= 0:
            return tuple(self.input_size)
        size_factor = self.input_size[1] * 1.0 / self.input_size[0]
        base = int(self.input_size[0] / 32)
        rng = random.Random(f"{self.seed}:{step}")
        size = rng.randint(base - self.multiscale_range, base + self.multiscale_range)
        return (int(32 * size), 32 * int(size * size_factor))

    # ---- optimisation ----------------------------------------------------------------
    def get_optimizer(self, batch_size: int) -> torch.optim.Optimizer:
        """YOLOX's SGD (nesterov) with the pg0/pg1/pg2 split over trainable parameters."""
        lr = self.warmup_lr if self.warmup_epochs > 0 else self.basic_lr_per_img * batch_size
        model = self.get_model()
        trainable = [p for p in model.parameters() if p.requires_grad]
        groups = param_groups(model, trainable, self.weight_decay, prefix="initial")
        self.optimizer = torch.optim.SGD(groups, lr=lr, momentum=self.momentum, nesterov=True)
        return self.optimizer
