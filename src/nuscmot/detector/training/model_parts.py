"""The model and what trains it: YOLOX's SGD param groups, the AMP scaler, the EMA copy and
the DDP wrapper; backbone freezing and the phase switch that adds its parameters."""

from __future__ import annotations

from typing import Any

import torch

from nuscmot.detector.config import DetectorConfig
from nuscmot.detector.exp import NuscExp, NuscYOLOX, add_param_groups, trainable_parameters
from nuscmot.detector.training.distributed import DistContext, wrap_ddp
from nuscmot.detector.training.schedule import PhaseSchedule
from nuscmot.detector.training.steps import backward_step
from yolox.utils import ModelEMA

EMA_DECAY = 0.9998  # YOLOX's


class ModelParts:
    """Built in the phase structure of ``start_epoch`` and loaded from ``state`` when resuming."""

    def __init__(self, exp: NuscExp, cfg: DetectorConfig, ctx: DistContext, device: torch.device, *,
                 amp: bool, start_epoch: int, state: dict[str, Any] | None):
        self.cfg, self.ctx, self.device = cfg, ctx, device
        schedule = PhaseSchedule.of(cfg)
        self.model: NuscYOLOX = exp.get_model()
        self.model.freeze_backbone(schedule.starts_frozen)
        self.model.to(device)
        if device.type == "cuda":
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = exp.get_optimizer(cfg.batch_size)
        if schedule.unfrozen_before(start_epoch):
            self.unfreeze()
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp)
        if state is not None:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scaler.load_state_dict(state["scaler"])
        self.ema = ModelEMA(self.model, EMA_DECAY) if cfg.ema else None
        if self.ema is not None and state is not None:
            self.ema.ema.load_state_dict(state["ema"])
            self.ema.updates = int(state["ema_updates"])
        self.train_model = wrap_ddp(self.model, ctx, device)

    def trainable(self) -> int:
        return trainable_parameters(self.model)

    def unfreeze(self) -> None:
        """Phase 2: the backbone trains; its parameters join the optimizer (YOLOX's split)."""
        self.model.freeze_backbone(False)
        add_param_groups(self.optimizer, self.model, self.model.darknet.parameters(),
                         self.cfg.weight_decay, prefix="backbone")

    def rewrap(self) -> None:
        """A new DDP wrapper (after :meth:`unfreeze`: DDP fixes its parameters when built)."""
        self.train_model = wrap_ddp(self.model, self.ctx, self.device)

    def backward(self, loss: torch.Tensor) -> None:
        """One optimizer step on ``loss`` (through the AMP scaler), then the EMA update."""
        backward_step(loss, self.optimizer, self.scaler)
        if self.ema is not None:
            self.ema.update(self.train_model)

    def eval_model(self) -> torch.nn.Module:
        """What is evaluated and exported: the EMA copy when EMA is on."""
        return self.ema.ema if self.ema is not None else self.model

    def state(self) -> dict[str, Any]:
        """The state-file entries of these parts."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "ema": self.ema.ema.state_dict() if self.ema is not None else None,
            "ema_updates": self.ema.updates if self.ema is not None else 0,
        }
