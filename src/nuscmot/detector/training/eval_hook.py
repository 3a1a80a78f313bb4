"""Periodic COCO evaluation on the val split during training, and the best model so far.

Evaluated: every ``eval_interval`` epochs, every no-augmentation epoch and the last; the
model scored is the EMA copy (when on), with the config's ``eval_conf_threshold`` /
``eval_nms_threshold``; a new best AP50 is exported to ``<state-dir>/best.pth`` by rank 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from nuscmot.detector.config import DetectorConfig, model_config
from nuscmot.detector.evaluate import evaluate_coco
from nuscmot.detector.training.distributed import DistContext
from nuscmot.detector.training.model_parts import ModelParts
from nuscmot.detector.training.reporting import TensorBoard
from nuscmot.detector.training.state_store import StateStore
from yolox.utils import all_reduce_norm


class EvalHook:
    def __init__(self, cfg: DetectorConfig, val_json: Path, image_root: Path, device: torch.device,
                 ctx: DistContext, store: StateStore, state: dict[str, Any] | None):
        self.cfg, self.val_json, self.image_root, self.device, self.ctx, self.store = (
            cfg, val_json, image_root, device, ctx, store)
        self.best_ap50 = float(state["best_ap50"]) if state else -1.0
        self.best_epoch = int(state["best_epoch"]) if state else 0
        self.export_meta: dict[str, Any] = {}  # more keys of the exported best.pth (the trainer's caps record)

    def due(self, epoch: int, no_aug: bool) -> bool:
        return (epoch + 1) % self.cfg.eval_interval == 0 or epoch + 1 == self.cfg.total_epochs or no_aug

    def evaluate(self, model: torch.nn.Module, progress: str | None = None) -> dict[str, Any]:
        """COCO metrics of ``model`` on the val split (put back in its train/eval mode after)."""
        cfg = self.cfg
        was_training = model.training
        model.eval()
        try:
            return evaluate_coco(model, self.val_json, self.image_root, num_classes=cfg.num_classes,
                                 input_size=tuple(cfg.input_size), conf_threshold=cfg.eval_conf_threshold,
                                 nms_threshold=cfg.eval_nms_threshold, batch_size=cfg.batch_size,
                                 workers=cfg.workers, device=self.device, max_images=cfg.max_val_images,
                                 seed=cfg.seed, progress=progress)
        finally:
            model.train(was_training)

    def after_epoch(self, epoch: int, record: dict[str, Any], parts: ModelParts, tb: TensorBoard,
                    iters_per_epoch: int) -> None:
        """When due: evaluate, add ``val`` (and ``best``) to ``record``, export a new best."""
        if not self.due(epoch, record["no_aug"]):
            return
        if self.ctx.distributed and self.device.type == "cuda":
            all_reduce_norm(parts.train_model)
        metrics = self.evaluate(parts.eval_model(), progress="val" if self.ctx.is_main else None)
        record["val"] = {k: v for k, v in metrics.items() if k != "summary"}
        tb.val(metrics, (epoch + 1) * iters_per_epoch)
        if metrics["AP50"] > self.best_ap50:
            self.best_ap50, self.best_epoch = metrics["AP50"], epoch + 1
            record["best"] = True
            if self.ctx.is_main:
                self.store.save_best(parts.eval_model().state_dict(), model_config(self.cfg), epoch=epoch + 1,
                                     metrics=record["val"], **self.export_meta)
