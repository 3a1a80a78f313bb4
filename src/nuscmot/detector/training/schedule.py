"""The run's schedule: phases (backbone frozen -> everything trains, a no-augmentation
tail) by epoch, and YOLOX's warmup + cosine learning rate by iteration.

Epochs are counted from 0 here; logs and saved states count finished epochs (from 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nuscmot.detector.config import DetectorConfig


@dataclass(frozen=True)
class PhaseSchedule:
    """``freeze_epochs`` with the backbone frozen (phase 1), then all layers (phase 2) up to
    ``total_epochs``; the last ``no_aug_epochs`` without mosaic/mixup, with the L1 loss."""

    freeze_epochs: int
    total_epochs: int
    no_aug_epochs: int

    @classmethod
    def of(cls, cfg: DetectorConfig) -> "PhaseSchedule":
        return cls(cfg.freeze_epochs, cfg.total_epochs, cfg.no_aug_epochs)

    @property
    def starts_frozen(self) -> bool:
        return self.freeze_epochs > 0

    def phase(self, epoch: int) -> int:
        """Phase (1 or 2) of 0-based ``epoch``."""
        return 1 if epoch < self.freeze_epochs else 2

    def phase_after(self, epochs_done: int) -> int:
        """Phase of the last of ``epochs_done`` finished epochs."""
        return 1 if epochs_done <= self.freeze_epochs else 2

    def unfreezes_at(self, epoch: int) -> bool:
        """Whether the backbone joins training at the start of ``epoch``."""
        return self.starts_frozen and epoch == self.freeze_epochs

    def unfrozen_before(self, start_epoch: int) -> bool:
        """Whether a run resumed at ``start_epoch`` switched phases in an earlier run."""
        return self.starts_frozen and start_epoch > self.freeze_epochs

    def no_aug(self, epoch: int) -> bool:
        return epoch >= self.total_epochs - self.no_aug_epochs


def iters_per_epoch(batches: int, cap: int) -> int:
    """Iterations an epoch runs: all ``batches``, or at most ``cap`` when ``cap`` > 0."""
    return min(batches, cap) if cap else batches


class LRSchedule:
    """YOLOX's ``yoloxwarmcos`` over both phases (``Exp.get_lr_scheduler``), set per iteration."""

    def __init__(self, exp, cfg: DetectorConfig, iters: int):
        self.base_lr = cfg.basic_lr_per_img * cfg.batch_size
        self.iters_per_epoch = iters
        self._scheduler = exp.get_lr_scheduler(self.base_lr, iters)

    def lr_at(self, step: int) -> float:
        """The LR after ``step`` iterations (since the run's first)."""
        return self._scheduler.update_lr(step)

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        """Set every param group to :meth:`lr_at` ``step``; returns it."""
        lr = self.lr_at(step)
        for g in optimizer.param_groups:
            g["lr"] = lr
        return lr
