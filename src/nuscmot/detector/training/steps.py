"""One training step, as YOLOX's ``Trainer.train_one_iter`` does it, and the epoch's loss sums."""

from __future__ import annotations

import time
from typing import Any

import torch

from nuscmot.detector.exp import NuscExp

LOSS_KEYS = ("total_loss", "iou_loss", "conf_loss", "cls_loss", "l1_loss")


def forward_loss(model, exp: NuscExp, inps: torch.Tensor, targets: torch.Tensor, tsize: tuple[int, int],
                 device: torch.device, amp: bool) -> dict[str, Any]:
    """YOLOX's training forward: batch to ``device``, resized to ``tsize`` (multiscale),
    channels_last on CUDA, autocast fp16 when ``amp``; returns the loss dict."""
    inps = inps.to(device, non_blocking=True)
    targets = targets.to(device, non_blocking=True)
    targets.requires_grad = False
    inps, targets = exp.preprocess(inps, targets, tsize)
    if device.type == "cuda":
        inps = inps.contiguous(memory_format=torch.channels_last)
    with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
        return model(inps, targets)


def backward_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler) -> None:
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


def loss_values(outputs: dict[str, Any]) -> dict[str, float]:
    """The :data:`LOSS_KEYS` of a YOLOX loss dict as floats."""
    return {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in ((k, outputs[k]) for k in LOSS_KEYS)}


class EpochMeter:
    """Loss sums, images and wall time of one epoch; :meth:`record` is its history entry."""

    def __init__(self):
        self.sums = dict.fromkeys(LOSS_KEYS, 0.0)
        self.iters = 0
        self.images = 0
        self.t0 = time.perf_counter()

    def add(self, losses: dict[str, float], images: int) -> None:
        self.iters += 1
        self.images += images
        for k in LOSS_KEYS:
            self.sums[k] += losses[k]

    def record(self, epoch: int, phase: int, lr: float, no_aug: bool) -> dict[str, Any]:
        seconds = time.perf_counter() - self.t0
        n = max(1, self.iters)
        return {"epoch": epoch + 1, "phase": phase, "iters": n, "images": self.images,
                "seconds": round(seconds, 2), "images_per_s": round(self.images / max(seconds, 1e-9), 2), "lr": lr,
                "no_aug": no_aug, **{k: self.sums[k] / n for k in LOSS_KEYS}}
