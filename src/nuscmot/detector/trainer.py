"""Two-phase, resumable, device-agnostic training loop around YOLOX's parts.

``yolox.core.Trainer`` needs CUDA (``torch.cuda.set_device``, ``DataPrefetcher``,
``torch.cuda.amp``, a CUDA ``random_resize``), so this is a short loop of our own that
follows it step by step with YOLOX's model, losses, augmentation, ``ModelEMA``,
``LRScheduler('yoloxwarmcos')`` and SGD param groups: AMP (``torch.autocast`` +
``torch.amp.GradScaler``) and channels_last only on CUDA; DDP under ``torchrun``.
The parts live in :mod:`nuscmot.detector.training`; :class:`Trainer` wires them and holds
the loop (:meth:`Trainer.fit` -> :meth:`Trainer.train_one_epoch` -> :meth:`Trainer.train_step`).

Phases: for ``freeze_epochs`` the CSPDarknet backbone is frozen (no grads, BatchNorms in
eval mode); then everything trains for ``unfreeze_epochs`` and the backbone's parameters
join the optimizer. One warmup + cosine LR schedule spans both phases; the last
``no_aug_epochs`` turn mosaic/mixup off and add YOLOX's L1 loss.

Before anything is read or written in the state dir, the pretrained checkpoint is checked
(present, sha256, readable): a mistyped path costs nothing.

Resume: the resumable state (model, optimizer, EMA, AMP scaler, epoch, phase, best AP,
RNG states, log) is saved atomically to ``<state-dir>/<fingerprint>/latest.pth`` at the end
of every epoch (plus ``epoch_NNNN.pth`` copies, the newest ``keep_epoch_ckpts`` kept) and
the best model so far to ``best.pth`` beside it. Rerunning the same command (e.g. after
kill -9) continues from the last saved epoch; augmentation and multiscale sizes are seeded
per sample/step, so on CPU a resumed run ends with the same weights as an uninterrupted one.
The fingerprint digests the config slice and the input files (COCO JSONs, pretrained
weights); another one starts fresh in its own folder and never touches the others (the log
names them and what differs, see :mod:`.training.state_store`). To force a fresh run of the
same config, move its folder away.
The declared outputs (``--best``, ``--latest``, ``--train-log``, ``--config-out``) are
written when training completes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

import nuscmot.detector  # noqa: F401  (makes yolox importable)
from nuscmot.common.errors import InputError, TrainingError
from nuscmot.common.io import atomic_path, write_json
from nuscmot.detector import checkpoint as ckpt_io
from nuscmot.detector.config import DetectorConfig, model_config, set_cpu_threads
from nuscmot.detector.data import check_images_exist, checked_batches, load_coco
from nuscmot.detector.exp import NuscExp
from nuscmot.detector.training.caps import caps_line, run_caps
from nuscmot.detector.training.distributed import DistContext
from nuscmot.detector.training.eval_hook import EvalHook
from nuscmot.detector.training.fingerprint import (changed_fields, check_digest, check_pretrained, file_digest,
                                                   fingerprint, fingerprint_doc)
from nuscmot.detector.training.model_parts import ModelParts
from nuscmot.detector.training.reporting import TensorBoard, TrainLog, format_record, progress
from nuscmot.detector.training.schedule import LRSchedule, PhaseSchedule, iters_per_epoch
from nuscmot.detector.training.state_store import (STATE_FORMAT, StateStore, rng_states, seed_everything,
                                                   set_rng_states)
from nuscmot.detector.training.steps import EpochMeter, forward_loss, loss_values

log = logging.getLogger(__name__)

__all__ = ["STATE_FORMAT", "DistContext", "TrainPaths", "Trainer", "changed_fields", "check_digest", "file_digest",
           "fingerprint", "train"]


@dataclass(frozen=True)
class TrainPaths:
    train_json: Path
    val_json: Path
    image_root: Path
    state_dir: Path
    runs_dir: Path
    best: Path
    latest: Path
    train_log: Path
    config_out: Path


def load_datasets(exp: NuscExp, paths: TrainPaths, num_classes: int):
    """``(base train set, augmented train set, val image count)``; empty splits are InputErrors."""
    base_set, train_set = exp.get_train_dataset(paths.train_json, paths.image_root)
    if len(base_set) == 0:
        raise InputError(paths.train_json, "no training images")
    val = load_coco(paths.val_json, num_classes)
    val_images = len(val.getImgIds())
    if val_images == 0:
        raise InputError(paths.val_json, "no validation images")
    check_images_exist([Path(paths.image_root) / i["file_name"] for i in val.imgs.values()], paths.val_json)
    return base_set, train_set, val_images


class Trainer:
    """One training run, fresh or resumed from the state folder; :meth:`fit` trains it.

    Setup order matters for bit-exact resumes: seed, model, data, state, parts, loader,
    LR schedule, then (resuming) the saved RNG states.
    """

    def __init__(self, cfg: DetectorConfig, paths: TrainPaths, ctx: DistContext, device: torch.device):
        self.cfg, self.paths, self.ctx, self.device = cfg, paths, ctx, device
        self.pretrained = check_pretrained(cfg)  # first: nothing is touched for a bad file
        self.amp = cfg.amp and device.type == "cuda"
        self.schedule = PhaseSchedule.of(cfg)
        seed_everything(cfg.seed)
        self.exp = NuscExp(cfg)
        self.exp.get_model()  # built first: its initialisation draws from the freshly seeded RNG
        self.base_set, train_set, self.val_images = load_datasets(self.exp, paths, cfg.num_classes)
        self.store = StateStore(paths.state_dir, fingerprint_doc(cfg, paths), cfg.keep_epoch_ckpts)
        state = self._open_state()
        self.start_epoch = int(state["epoch"]) if state else 0
        self.history: list[dict[str, Any]] = list(state["history"]) if state else []
        self.evals = EvalHook(cfg, paths.val_json, paths.image_root, device, ctx, self.store, state)
        self.parts = ModelParts(self.exp, cfg, ctx, device, amp=self.amp, start_epoch=self.start_epoch, state=state)
        self.loader = self.exp.get_data_loader(train_set, cfg.batch_size, rank=ctx.rank, world_size=ctx.world_size,
                                               no_aug=self.schedule.no_aug(self.start_epoch),
                                               pin_memory=device.type == "cuda")
        self.iters_per_epoch = iters_per_epoch(len(self.loader.batch_sampler), cfg.max_iters_per_epoch)
        self.lr = LRSchedule(self.exp, cfg, self.iters_per_epoch)
        self._note_caps(len(self.loader.batch_sampler))
        if state is not None:
            set_rng_states(state["rng"])
            self.lr.apply(self.parts.optimizer, self.start_epoch * self.iters_per_epoch)
        purge = self.start_epoch * self.iters_per_epoch if state is not None else None
        self.tb = TensorBoard(paths.runs_dir, ctx.is_main, purge_step=purge)

    # -- setup
    def _open_state(self) -> dict[str, Any] | None:
        """The state to resume (its log continued), or a fresh start in this fingerprint's own
        folder (the other states untouched): header logged, pretrained weights loaded."""
        state, why = self.store.find()
        self.ctx.barrier()
        log.info(why)
        self.log = TrainLog(log, state["log"] if state else None)
        self.log.add(why)
        if state is not None:
            return state
        if self.ctx.is_main:
            self.store.begin()
        for line in self._header():
            self.log.note(line)
        self._init_weights()
        return None

    def _header(self) -> list[str]:
        c, exp, data = self.cfg, self.exp, self.base_set
        return [
            f"model {c.model} ({exp.depth}/{exp.width}{', depthwise' if exp.depthwise else ''}), "
            f"{c.num_classes} classes, input {c.input_size[0]}x{c.input_size[1]} (h x w), "
            f"multiscale +-{c.multiscale_range}x32",
            f"data: {len(data)} train images ({data.num_boxes} boxes) from {self.paths.train_json}, "
            f"{self.val_images} val images from {self.paths.val_json}",
            f"schedule: {c.freeze_epochs} epochs backbone frozen + {c.unfreeze_epochs} epochs all layers, "
            f"lr {c.basic_lr_per_img * c.batch_size:g} (batch {c.batch_size}), warmup {c.warmup_epochs}, "
            f"no-aug {c.no_aug_epochs}, device {self.device}, AMP {'on' if self.amp else 'off'}, "
            f"world size {self.ctx.world_size}",
        ]

    def _note_caps(self, batches: int) -> None:
        """The run's caps (:mod:`.training.caps`): one line in the train log (once, a resumed
        log has it), and the ``training`` record of every checkpoint it exports."""
        self.caps = run_caps(self.cfg, train_total=self.base_set.total_images, train_used=len(self.base_set),
                             batches=batches, iters=self.iters_per_epoch,
                             images_per_iter=self.loader.batch_sampler.batch_size * self.ctx.world_size,
                             val_total=self.val_images)
        self.evals.export_meta = {"training": self.caps}
        line = caps_line(self.caps)
        if not any(line in logged for logged in self.log.lines):
            self.log.note(line)

    def _init_weights(self) -> None:
        path = self.pretrained
        if path is not None:
            loaded, skipped = ckpt_io.load_pretrained(self.exp.get_model(), path)
            self.log.note(f"pretrained {path}: loaded {len(loaded)} tensors, skipped {len(skipped)} "
                          f"(shape mismatch or missing: {', '.join(s.split(' ')[0] for s in skipped[:6])}"
                          f"{', ...' if len(skipped) > 6 else ''})")
            return
        self.log.note(f"pretrained weights {self.cfg.pretrained or '(none configured)'} not found: "
                      "training from scratch (allow_scratch)")  # (check_pretrained refused it otherwise)

    # -- the loop
    def fit(self, max_epochs_this_run: int | None = None) -> dict[str, Any] | None:
        """Train the remaining epochs; None when stopped after ``max_epochs_this_run`` of them."""
        if self.start_epoch == 0:
            what = "phase 1: backbone frozen," if self.schedule.starts_frozen else "no frozen phase:"
            self.log.note(f"{what} {self.parts.trainable():,} trainable parameters")
        for epoch in range(self.start_epoch, self.cfg.total_epochs):
            if max_epochs_this_run is not None and epoch - self.start_epoch >= max_epochs_this_run:
                return None
            if self.schedule.unfreezes_at(epoch):
                self._unfreeze()
            record = self.train_one_epoch(epoch)
            self.evals.after_epoch(epoch, record, self.parts, self.tb, self.iters_per_epoch)
            self._end_epoch(record)
        return self._finish()

    def _unfreeze(self) -> None:
        self.parts.unfreeze()
        self.log.note(f"phase 2: backbone unfrozen, {self.parts.trainable():,} trainable parameters "
                      f"({len(self.parts.optimizer.param_groups)} optimizer groups)")
        self.parts.rewrap()

    def train_one_epoch(self, epoch: int) -> dict[str, Any]:
        no_aug = self.schedule.no_aug(epoch)
        if no_aug:
            self.loader.close_mosaic()
            self.parts.model.head.use_l1 = True
        self.loader.batch_sampler.set_epoch(epoch)
        self.parts.train_model.train()
        meter = EpochMeter()
        bar = progress(self.iters_per_epoch, f"epoch {epoch + 1}/{self.cfg.total_epochs}", self.ctx.is_main)
        lr = self.parts.optimizer.param_groups[0]["lr"]
        for it, (inps, targets) in enumerate(checked_batches(self.loader)):
            if it >= self.iters_per_epoch:
                break
            step = epoch * self.iters_per_epoch + it
            losses = self.train_step(inps, targets, self.exp.random_resize(step=step // 10), epoch, it)
            lr = self.lr.apply(self.parts.optimizer, step + 1)
            meter.add(losses, inps.shape[0] * self.ctx.world_size)
            self.tb.train_step(losses, lr, step + 1)
            bar.set_postfix(loss=f"{losses['total_loss']:.2f}", lr=f"{lr:.2e}")
            bar.update(1)
        bar.close()
        record = meter.record(epoch, self.schedule.phase(epoch), lr, no_aug)
        self.tb.throughput(record["images_per_s"], (epoch + 1) * self.iters_per_epoch)
        return record

    def train_step(self, inps, targets, tsize, epoch: int, it: int) -> dict[str, float]:
        """Forward, loss check (on every rank), backward + optimizer + EMA; the losses."""
        outputs = forward_loss(self.parts.train_model, self.exp, inps, targets, tsize, self.device, self.amp)
        loss = outputs["total_loss"]
        if not self.ctx.all_finite(loss):
            last = self.store.latest
            kept = f"last good checkpoint {last}" if last.is_file() else "no checkpoint saved yet"
            raise TrainingError(f"non-finite loss ({float(loss.detach()):.4g}) at epoch {epoch + 1}, "
                                f"iteration {it + 1}: training stopped ({kept}); "
                                "lower basic_lr_per_img or check the data")
        self.parts.backward(loss)
        return loss_values(outputs)

    # -- after each epoch, and at the end
    def _end_epoch(self, record: dict[str, Any]) -> None:
        self.history.append(record)
        self.log.note(format_record(record, self.cfg.total_epochs))
        if self.ctx.is_main:
            self._save_state(record["epoch"])
            self.log.write(self.paths.train_log)
            self.tb.flush()

    def _save_state(self, epochs_done: int) -> None:
        parts = self.parts.state()
        self.store.save(epochs_done, {
            "phase": self.schedule.phase_after(epochs_done),
            "model": parts["model"],
            "model_config": model_config(self.cfg),
            **{k: parts[k] for k in ("optimizer", "scaler", "ema", "ema_updates")},
            "best_ap50": self.evals.best_ap50,
            "best_epoch": self.evals.best_epoch,
            "history": self.history,
            "log": self.log.lines,
            "rng": rng_states(),
        })

    def _finish(self) -> dict[str, Any]:
        summary = {"best_ap50": self.evals.best_ap50, "best_epoch": self.evals.best_epoch,
                   "epochs": self.cfg.total_epochs, "history": self.history}
        if not self.ctx.is_main:
            return summary
        paths, cfg, model = self.paths, self.cfg, self.parts.eval_model()
        last_val = next((r["val"] for r in reversed(self.history) if r.get("val")), None)
        ckpt_io.export(paths.latest, model.state_dict(), model_config(cfg), epoch=cfg.total_epochs, metrics=last_val,
                       training=self.caps)
        if not self.store.best.is_file():  # (only when no epoch was evaluated)
            self.store.save_best(model.state_dict(), model_config(cfg), epoch=cfg.total_epochs, metrics=last_val,
                                 training=self.caps)
        with atomic_path(paths.best) as tmp:
            shutil.copyfile(self.store.best, tmp)
        self.log.note(f"done: best val AP50 {self.evals.best_ap50:.4f} at epoch {self.evals.best_epoch}; "
                      f"best -> {paths.best}, latest -> {paths.latest}")
        self.log.write(paths.train_log)
        write_json(paths.config_out, self.resolved_config())
        self.tb.close()
        return summary

    def resolved_config(self) -> dict[str, Any]:
        from nuscmot.detector import NMS_BACKEND

        return {
            "detector": dataclasses.asdict(self.cfg),
            "model_config": model_config(self.cfg),
            "derived": {
                "lr": self.lr.base_lr,
                "iters_per_epoch": self.iters_per_epoch,
                "total_epochs": self.cfg.total_epochs,
                "train_images": len(self.base_set),
                "val_images": self.val_images,
                "world_size": self.ctx.world_size,
                "device_type": self.device.type,
                "amp": self.amp,
                "multiscale_sizes": sorted({self.exp.random_resize(step=s) for s in range(1, 200)})
                if self.cfg.multiscale_range else [list(self.cfg.input_size)],
                "nms_backend": NMS_BACKEND,
                "caps": self.caps,
                "fingerprint": self.store.fingerprint,
            },
            "inputs": {"train_json": str(self.paths.train_json), "val_json": str(self.paths.val_json),
                       "image_root": str(self.paths.image_root)},
        }


def train(cfg: DetectorConfig, paths: TrainPaths, *, max_epochs_this_run: int | None = None,
          env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Train (or resume) to completion; returns a summary, or None when stopped early by
    ``max_epochs_this_run`` (as if interrupted: the state dir holds the progress)."""
    ctx = DistContext.from_env(os.environ if env is None else env)
    if not ctx.is_main:  # one log, rank 0's
        logging.getLogger("nuscmot").setLevel(logging.WARNING)
    set_cpu_threads(cfg.threads)
    device = ctx.device()
    ctx.init(device)
    try:
        trainer = Trainer(cfg, paths, ctx, device)
        try:
            return trainer.fit(max_epochs_this_run)
        finally:
            trainer.tb.close()
    finally:
        ctx.destroy()
