"""Two-phase, resumable, device-agnostic training loop around YOLOX's parts.

``yolox.core.Trainer`` needs CUDA (``torch.cuda.set_device``, ``DataPrefetcher``,
``torch.cuda.amp``, a CUDA ``random_resize``), so this is a short loop of our own that
follows it step by step with YOLOX's model, losses, augmentation, ``ModelEMA``,
``LRScheduler('yoloxwarmcos')`` and SGD param groups: AMP (``torch.autocast`` +
``torch.amp.GradScaler``) and channels_last only on CUDA; DDP under ``torchrun``.

Phases: for ``freeze_epochs`` the CSPDarknet backbone is frozen (no grads, BatchNorms in
eval mode); then everything trains for ``unfreeze_epochs`` and the backbone's parameters
join the optimizer. One warmup + cosine LR schedule spans both phases; the last
``no_aug_epochs`` turn mosaic/mixup off and add YOLOX's L1 loss.

Resume: the resumable state (model, optimizer, EMA, AMP scaler, epoch, phase, best AP,
RNG states, log) is saved atomically to ``<state-dir>/latest.pth`` at the end of every
epoch (plus ``epoch_NNNN.pth`` copies, the newest ``keep_epoch_ckpts`` kept) and the best
model so far to ``<state-dir>/best.pth``. Rerunning the same command (e.g. after kill -9)
continues from the last saved epoch; augmentation and multiscale sizes are seeded per
sample/step, so on CPU a resumed run ends with the same weights as an uninterrupted one.
The state records a fingerprint of the config slice and the input files (COCO JSONs,
pretrained weights); when it differs, training starts fresh (and says so in the log).
To force a fresh run, delete the state dir (``results/detector/state``).
The declared outputs (``--best``, ``--latest``, ``--train-log``, ``--config-out``) are
written when training completes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

import nuscmot.detector  # noqa: F401  (makes yolox importable)
from nuscmot.common.errors import InputError, TrainingError
from nuscmot.common.io import atomic_path, write_json, write_text
from nuscmot.detector import checkpoint as ckpt_io
from nuscmot.detector.config import DetectorConfig, model_config, set_cpu_threads
from nuscmot.detector.data import check_images_exist, checked_batches, load_coco
from nuscmot.detector.evaluate import evaluate_coco
from nuscmot.detector.exp import NuscExp, NuscYOLOX, add_param_groups, trainable_parameters
from yolox.utils import ModelEMA, all_reduce_norm

log = logging.getLogger(__name__)

STATE_FORMAT = "nuscmot-yolox-state/1"
LOSS_KEYS = ("total_loss", "iou_loss", "conf_loss", "cls_loss", "l1_loss")
RUNTIME_ONLY = ("workers", "threads")  # config keys that do not change what is computed
TB_NAMES = {"total_loss": "total", "iou_loss": "iou", "conf_loss": "obj", "cls_loss": "cls", "l1_loss": "l1"}


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


@dataclass(frozen=True)
class DistContext:
    """torchrun's environment: distributed only when ``WORLD_SIZE > 1``."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "DistContext":
        world = int(env.get("WORLD_SIZE", "1") or 1)
        if world <= 1:
            return cls()
        return cls(world, int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0")))

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self) -> torch.device:
        return torch.device(f"cuda:{self.local_rank}") if torch.cuda.is_available() else torch.device("cpu")

    def init(self, device: torch.device) -> None:
        """``init_process_group`` (NCCL on CUDA, gloo on CPU); a no-op for one process."""
        if not self.distributed:
            return
        if device.type == "cuda":
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


# ---- fingerprint / state files --------------------------------------------------------
def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_digest(path: Path, expected: str) -> None:
    """A pretrained file must be the one the config names: its sha256 is checked when given."""
    if not expected:
        return
    actual = file_digest(path)
    if actual != expected.lower():
        raise InputError(path, f"sha256 {actual[:16]}... does not match detector.pretrained_sha256 "
                               f"{expected[:16]}... (a different or damaged file; restore it or update the digest)")


def changed_fields(cfg: DetectorConfig) -> dict[str, Any]:
    """The config fields that differ from their dataclass default (less RUNTIME_ONLY).

    Leaving defaults out keeps a saved state resumable when a later version adds a field
    (with a default that changes nothing): a long run cut off mid-way survives the upgrade.
    """
    defaults = DetectorConfig()
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)
            if f.name not in RUNTIME_ONLY and getattr(cfg, f.name) != getattr(defaults, f.name)}


def fingerprint(cfg: DetectorConfig, paths: TrainPaths) -> str:
    """Config slice + contents of the inputs that change what training computes."""
    pre = Path(cfg.pretrained) if cfg.pretrained else None
    doc = {
        "cfg": changed_fields(cfg),
        "train_json": file_digest(paths.train_json),
        "val_json": file_digest(paths.val_json),
        "pretrained": file_digest(pre) if pre is not None and pre.is_file() else None,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=list).encode()).hexdigest()


def state_files(state_dir: Path) -> list[Path]:
    """Resumable states, newest first: latest.pth, then epoch_NNNN.pth descending."""
    files = [state_dir / "latest.pth"] if (state_dir / "latest.pth").is_file() else []
    return files + sorted(state_dir.glob("epoch_*.pth"), reverse=True)


def find_resume_state(state_dir: Path, fp: str) -> tuple[dict[str, Any] | None, str]:
    """The newest loadable state with fingerprint ``fp`` (or None) and a reason to log."""
    for path in state_files(state_dir):
        try:
            state = ckpt_io.load(path, "training state")
        except InputError as exc:
            log.warning("ignoring unreadable state %s (%s)", path, exc)
            continue
        if state.get("format") != STATE_FORMAT:
            continue
        if state.get("fingerprint") != fp:
            return None, f"state in {state_dir} is from a different config/input (fingerprint changed): starting fresh"
        return state, f"resuming from {path} (epoch {state['epoch']} done)"
    return None, "no saved state: starting fresh"


def clear_state(state_dir: Path) -> None:
    for path in [*state_dir.glob("epoch_*.pth"), state_dir / "latest.pth", state_dir / "best.pth"]:
        path.unlink(missing_ok=True)


def link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` with ``src``'s content, atomically: a hard link (no second write) where the
    file system allows, else a copy. ``src`` is later replaced by rename, so they never alias."""
    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def rng_states() -> dict[str, Any]:
    np_state = np.random.get_state()
    states = {
        "python": random.getstate(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].copy()), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, *rest = states["numpy"]
    np.random.set_state((name, keys.numpy(), *rest))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---- the loop ---------------------------------------------------------------------------
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


class Run:
    """One training run (fresh or resumed); :meth:`fit` does the epochs."""

    def __init__(self, cfg: DetectorConfig, paths: TrainPaths, ctx: DistContext, device: torch.device):
        self.cfg, self.paths, self.ctx, self.device = cfg, paths, ctx, device
        self.cuda = device.type == "cuda"
        self.amp = cfg.amp and self.cuda
        seed_everything(cfg.seed)
        self.exp = NuscExp(cfg)
        self.model: NuscYOLOX = self.exp.get_model()
        self.base_set, train_set = self.exp.get_train_dataset(paths.train_json, paths.image_root)
        if len(self.base_set) == 0:
            raise InputError(paths.train_json, "no training images")
        val = load_coco(paths.val_json, cfg.num_classes)
        self.val_images = len(val.getImgIds())
        if self.val_images == 0:
            raise InputError(paths.val_json, "no validation images")
        check_images_exist([Path(paths.image_root) / i["file_name"] for i in val.imgs.values()], paths.val_json)
        self.fingerprint = fingerprint(cfg, paths)

        state, why = find_resume_state(paths.state_dir, self.fingerprint)
        ctx.barrier()
        log.info(why)
        self.log_lines: list[str] = list(state["log"]) if state else []
        if state is None:
            if ctx.is_main:
                clear_state(paths.state_dir)
            self._header()
            self._init_weights()
        else:
            self.log_lines.append(f"[{_now()}] {why}")
        self.start_epoch = int(state["epoch"]) if state else 0
        self.best_ap50 = float(state["best_ap50"]) if state else -1.0
        self.best_epoch = int(state["best_epoch"]) if state else 0
        self.history: list[dict[str, Any]] = list(state["history"]) if state else []

        # model / optimizer in the phase structure the state was saved with
        self.model.freeze_backbone(cfg.freeze_epochs > 0)
        self.model.to(device)
        if self.cuda:
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = self.exp.get_optimizer(cfg.batch_size)
        if cfg.freeze_epochs > 0 and self.start_epoch > cfg.freeze_epochs:  # switched in an earlier run
            self._unfreeze(log_it=False)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        if state is not None:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scaler.load_state_dict(state["scaler"])
        self.ema = ModelEMA(self.model, 0.9998) if cfg.ema else None
        if self.ema is not None and state is not None:
            self.ema.ema.load_state_dict(state["ema"])
            self.ema.updates = int(state["ema_updates"])
        self.train_model = self._wrap(self.model)

        no_aug = self.start_epoch >= cfg.total_epochs - cfg.no_aug_epochs
        self.loader = self.exp.get_data_loader(train_set, cfg.batch_size, rank=ctx.rank, world_size=ctx.world_size,
                                               no_aug=no_aug, pin_memory=self.cuda)
        n = len(self.loader.batch_sampler)
        self.iters_per_epoch = min(n, cfg.max_iters_per_epoch) if cfg.max_iters_per_epoch else n
        self.lr = cfg.basic_lr_per_img * cfg.batch_size
        self.scheduler = self.exp.get_lr_scheduler(self.lr, self.iters_per_epoch)
        if state is not None:
            set_rng_states(state["rng"])
            for g in self.optimizer.param_groups:
                g["lr"] = self.scheduler.update_lr(self.start_epoch * self.iters_per_epoch)
        self.writer = None
        if ctx.is_main:
            from torch.utils.tensorboard import SummaryWriter

            purge = self.start_epoch * self.iters_per_epoch if state is not None else None
            self.writer = SummaryWriter(str(paths.runs_dir), purge_step=purge)

    # -- setup helpers
    def _header(self) -> None:
        c = self.cfg
        self._note(f"model {c.model} ({self.exp.depth}/{self.exp.width}{', depthwise' if self.exp.depthwise else ''}), "
                   f"{c.num_classes} classes, input {c.input_size[0]}x{c.input_size[1]} (h x w), "
                   f"multiscale +-{c.multiscale_range}x32")
        self._note(f"data: {len(self.base_set)} train images ({self.base_set.num_boxes} boxes) from {self.paths.train_json}, "
                   f"{self.val_images} val images from {self.paths.val_json}")
        self._note(f"schedule: {c.freeze_epochs} epochs backbone frozen + {c.unfreeze_epochs} epochs all layers, "
                   f"lr {c.basic_lr_per_img * c.batch_size:g} (batch {c.batch_size}), warmup {c.warmup_epochs}, "
                   f"no-aug {c.no_aug_epochs}, device {self.device}, AMP {'on' if self.amp else 'off'}, "
                   f"world size {self.ctx.world_size}")

    def _note(self, line: str) -> None:
        log.info(line)
        self.log_lines.append(f"[{_now()}] {line}")

    def _init_weights(self) -> None:
        path = self.cfg.pretrained
        if path and Path(path).is_file():
            check_digest(Path(path), self.cfg.pretrained_sha256)
            loaded, skipped = ckpt_io.load_pretrained(self.model, path)
            self._note(f"pretrained {path}: loaded {len(loaded)} tensors, skipped {len(skipped)} "
                       f"(shape mismatch or missing: {', '.join(s.split(' ')[0] for s in skipped[:6])}"
                       f"{', ...' if len(skipped) > 6 else ''})")
            return
        self._note(f"pretrained weights {path or '(none configured)'} not found: "
                   + ("training from scratch (allow_scratch)" if self.cfg.allow_scratch else "stopping"))
        if not self.cfg.allow_scratch:
            raise InputError(path or "detector.pretrained",
                             "pretrained checkpoint not found; download it or set detector.allow_scratch: true")

    def _wrap(self, model):
        if not self.ctx.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.device.index] if self.cuda else None
        # YOLOX keeps BN buffers rank-local during the forward (and all-reduces them before eval)
        params = inspect.signature(DDP).parameters
        no_sync = {"forward_sync_buffers": False} if "forward_sync_buffers" in params else {"broadcast_buffers": False}
        return DDP(model, device_ids=ids, **no_sync)

    def _unfreeze(self, log_it: bool = True) -> None:
        self.model.freeze_backbone(False)
        add_param_groups(self.optimizer, self.model, self.model.darknet.parameters(),
                         self.cfg.weight_decay, prefix="backbone")
        if log_it:
            self._note(f"phase 2: backbone unfrozen, {trainable_parameters(self.model):,} trainable parameters "
                       f"({len(self.optimizer.param_groups)} optimizer groups)")

    # -- training
    def fit(self, max_epochs_this_run: int | None = None) -> dict[str, Any] | None:
        cfg = self.cfg
        if self.start_epoch == 0 and cfg.freeze_epochs > 0:
            self._note(f"phase 1: backbone frozen, {trainable_parameters(self.model):,} trainable parameters")
        elif self.start_epoch == 0:
            self._note(f"no frozen phase: {trainable_parameters(self.model):,} trainable parameters")
        for epoch in range(self.start_epoch, cfg.total_epochs):
            if max_epochs_this_run is not None and epoch - self.start_epoch >= max_epochs_this_run:
                return None
            if cfg.freeze_epochs > 0 and epoch == cfg.freeze_epochs:
                self._unfreeze()
                self.train_model = self._wrap(self.model)
            record = self._train_epoch(epoch)
            self._end_epoch(epoch, record)
        return self._finish()

    def _train_epoch(self, epoch: int) -> dict[str, Any]:
        cfg, model = self.cfg, self.model
        no_aug = epoch >= cfg.total_epochs - cfg.no_aug_epochs
        if no_aug:
            self.loader.close_mosaic()
            model.head.use_l1 = True
        self.loader.batch_sampler.set_epoch(epoch)
        self.train_model.train()
        sums = dict.fromkeys(LOSS_KEYS, 0.0)
        images, t0 = 0, time.perf_counter()
        bar = tqdm(total=self.iters_per_epoch, desc=f"epoch {epoch + 1}/{cfg.total_epochs}", unit="it",
                   disable=not self.ctx.is_main, leave=False)
        lr = self.optimizer.param_groups[0]["lr"]
        it = 0
        for it, (inps, targets) in enumerate(checked_batches(self.loader)):
            if it >= self.iters_per_epoch:
                break
            gi = epoch * self.iters_per_epoch + it
            losses = self._step(inps, targets, self.exp.random_resize(step=gi // 10), epoch, it)
            lr = self.scheduler.update_lr(gi + 1)
            for g in self.optimizer.param_groups:
                g["lr"] = lr
            images += inps.shape[0] * self.ctx.world_size
            for k in LOSS_KEYS:
                sums[k] += losses[k]
            if self.writer is not None and (gi + 1) % 10 == 0:
                for k in LOSS_KEYS:
                    self.writer.add_scalar(f"train/{TB_NAMES[k]}_loss", losses[k], gi + 1)
                self.writer.add_scalar("train/lr", lr, gi + 1)
            bar.set_postfix(loss=f"{losses['total_loss']:.2f}", lr=f"{lr:.2e}")
            bar.update(1)
        bar.close()
        seconds = time.perf_counter() - t0
        n = max(1, min(it + 1, self.iters_per_epoch))
        record = {"epoch": epoch + 1, "phase": 1 if epoch < cfg.freeze_epochs else 2, "iters": n, "images": images,
                  "seconds": round(seconds, 2), "images_per_s": round(images / max(seconds, 1e-9), 2), "lr": lr,
                  "no_aug": no_aug, **{k: sums[k] / n for k in LOSS_KEYS}}
        if self.writer is not None:
            self.writer.add_scalar("train/images_per_s", record["images_per_s"], (epoch + 1) * self.iters_per_epoch)
        return record

    def _step(self, inps, targets, tsize, epoch: int, it: int) -> dict[str, float]:
        outputs = forward_loss(self.train_model, self.exp, inps, targets, tsize, self.device, self.amp)
        self._check_finite(outputs["total_loss"], epoch, it)
        backward_step(outputs["total_loss"], self.optimizer, self.scaler)
        if self.ema is not None:
            self.ema.update(self.train_model)
        return {k: float(v.detach()) if torch.is_tensor(v) else float(v)
                for k, v in ((k, outputs[k]) for k in LOSS_KEYS)}

    def _check_finite(self, loss: torch.Tensor, epoch: int, it: int) -> None:
        ok = torch.isfinite(loss.detach()).all().float().reshape(1)
        if self.ctx.distributed:
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)
        if ok.item() < 1:
            last = self.paths.state_dir / "latest.pth"
            kept = f"last good checkpoint {last}" if last.is_file() else "no checkpoint saved yet"
            raise TrainingError(f"non-finite loss ({float(loss.detach()):.4g}) at epoch {epoch + 1}, iteration {it + 1}: "
                                f"training stopped ({kept}); lower basic_lr_per_img or check the data")

    def eval_model(self):
        return self.ema.ema if self.ema is not None else self.model

    def evaluate(self, progress: str | None = None) -> dict[str, Any]:
        if self.ctx.distributed and self.cuda:
            all_reduce_norm(self.train_model)
        model = self.eval_model()
        was_training = model.training
        model.eval()
        try:
            return evaluate_coco(model, self.paths.val_json, self.paths.image_root, num_classes=self.cfg.num_classes,
                                 input_size=tuple(self.cfg.input_size), conf_threshold=self.exp.test_conf,
                                 nms_threshold=self.exp.nmsthre, batch_size=self.cfg.batch_size,
                                 workers=self.cfg.workers, device=self.device, max_images=self.cfg.max_val_images,
                                 seed=self.cfg.seed, progress=progress)
        finally:
            model.train(was_training)

    def _end_epoch(self, epoch: int, record: dict[str, Any]) -> None:
        cfg = self.cfg
        last = epoch + 1 == cfg.total_epochs
        if (epoch + 1) % cfg.eval_interval == 0 or last or record["no_aug"]:
            metrics = self.evaluate(progress="val" if self.ctx.is_main else None)
            record["val"] = {k: v for k, v in metrics.items() if k != "summary"}
            if self.writer is not None:
                step = (epoch + 1) * self.iters_per_epoch
                for k in ("AP50", "AP75", "AR100", "AP"):
                    self.writer.add_scalar(f"val/{k}", metrics[k], step)
            if metrics["AP50"] > self.best_ap50:
                self.best_ap50, self.best_epoch = metrics["AP50"], epoch + 1
                record["best"] = True
                if self.ctx.is_main:
                    ckpt_io.export(self.paths.state_dir / "best.pth", self.eval_model().state_dict(),
                                   model_config(cfg), epoch=epoch + 1, metrics=record["val"])
        self.history.append(record)
        self._note(format_record(record, cfg.total_epochs))
        if self.ctx.is_main:
            self._save_state(epoch + 1)
            write_text(self.paths.train_log, "\n".join(self.log_lines) + "\n")
            if self.writer is not None:
                self.writer.flush()

    def _save_state(self, epochs_done: int) -> None:
        state = {
            "format": STATE_FORMAT,
            "fingerprint": self.fingerprint,
            "epoch": epochs_done,
            "phase": 1 if epochs_done <= self.cfg.freeze_epochs else 2,  # of the last epoch trained
            "model": self.model.state_dict(),
            "model_config": model_config(self.cfg),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "ema": self.ema.ema.state_dict() if self.ema is not None else None,
            "ema_updates": self.ema.updates if self.ema is not None else 0,
            "best_ap50": self.best_ap50,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "log": self.log_lines,
            "rng": rng_states(),
        }
        state_dir = self.paths.state_dir
        latest = state_dir / "latest.pth"
        ckpt_io.save(state, latest)
        if self.cfg.keep_epoch_ckpts > 0:
            link_or_copy(latest, state_dir / f"epoch_{epochs_done:04d}.pth")
            for old in sorted(state_dir.glob("epoch_*.pth"))[: -self.cfg.keep_epoch_ckpts]:
                old.unlink(missing_ok=True)

    def _finish(self) -> dict[str, Any]:
        summary = {"best_ap50": self.best_ap50, "best_epoch": self.best_epoch, "epochs": self.cfg.total_epochs,
                   "history": self.history}
        if not self.ctx.is_main:
            return summary
        paths, cfg = self.paths, self.cfg
        last_val = next((r["val"] for r in reversed(self.history) if r.get("val")), None)
        ckpt_io.export(paths.latest, self.eval_model().state_dict(), model_config(cfg), epoch=cfg.total_epochs,
                       metrics=last_val)
        best = paths.state_dir / "best.pth"
        if not best.is_file():  # (only when no epoch was evaluated)
            ckpt_io.export(best, self.eval_model().state_dict(), model_config(cfg), epoch=cfg.total_epochs,
                           metrics=last_val)
        with atomic_path(paths.best) as tmp:
            shutil.copyfile(best, tmp)
        self._note(f"done: best val AP50 {self.best_ap50:.4f} at epoch {self.best_epoch}; "
                   f"best -> {paths.best}, latest -> {paths.latest}")
        write_text(paths.train_log, "\n".join(self.log_lines) + "\n")
        write_json(paths.config_out, self.resolved_config())
        if self.writer is not None:
            self.writer.close()
        return summary

    def resolved_config(self) -> dict[str, Any]:
        from nuscmot.detector import NMS_BACKEND

        return {
            "detector": dataclasses.asdict(self.cfg),
            "model_config": model_config(self.cfg),
            "derived": {
                "lr": self.lr,
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
                "fingerprint": self.fingerprint,
            },
            "inputs": {"train_json": str(self.paths.train_json), "val_json": str(self.paths.val_json),
                       "image_root": str(self.paths.image_root)},
        }


def format_record(r: dict[str, Any], total: int) -> str:
    line = (f"epoch {r['epoch']}/{total} phase {r['phase']}{' no-aug' if r['no_aug'] else ''}: "
            f"{r['iters']} it, {r['images']} img, {r['seconds']:.0f} s ({r['images_per_s']:.1f} img/s), "
            f"lr {r['lr']:.3g}, loss {r['total_loss']:.3f} (iou {r['iou_loss']:.3f} obj {r['conf_loss']:.3f} "
            f"cls {r['cls_loss']:.3f} l1 {r['l1_loss']:.3f})")
    v = r.get("val")
    if v:
        line += (f" | val AP50 {v['AP50']:.4f} AP {v['AP']:.4f} AP75 {v['AP75']:.4f} AR100 {v['AR100']:.4f}"
                 + (" *best*" if r.get("best") else ""))
    return line


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


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
        run = Run(cfg, paths, ctx, device)
        try:
            return run.fit(max_epochs_this_run)
        finally:
            if run.writer is not None:
                run.writer.close()
    finally:
        if ctx.distributed and dist.is_initialized():
            dist.destroy_process_group()

