"""What a run reports: the ``train_log`` text (kept in the state, so a resumed run's log is
whole), TensorBoard scalars (rank 0 only), progress bars, and the one-line epoch record."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from nuscmot.common.io import write_text
from nuscmot.detector.training.steps import LOSS_KEYS

TB_NAMES = {"total_loss": "total", "iou_loss": "iou", "conf_loss": "obj", "cls_loss": "cls", "l1_loss": "l1"}
TB_EVERY = 10  # iterations between training scalars
VAL_SCALARS = ("AP50", "AP75", "AR100", "AP")


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


class TrainLog:
    """Timestamped lines for ``train_log.txt``; :meth:`note` also logs them through ``logger``."""

    def __init__(self, logger: logging.Logger, lines: list[str] | None = None):
        self.logger = logger
        self.lines: list[str] = list(lines or [])

    def note(self, line: str) -> None:
        self.logger.info(line)
        self.add(line)

    def add(self, line: str) -> None:
        """A line for the file only (already logged)."""
        self.lines.append(f"[{now()}] {line}")

    def write(self, path: Path) -> None:
        write_text(path, "\n".join(self.lines) + "\n")


class TensorBoard:
    """Scalars under ``runs_dir`` (nothing when disabled, i.e. on ranks other than 0).
    ``purge_step`` drops events a resumed run writes again."""

    def __init__(self, runs_dir: Path, enabled: bool, purge_step: int | None = None):
        self.writer = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(runs_dir), purge_step=purge_step)

    def train_step(self, losses: dict[str, float], lr: float, step: int) -> None:
        """Losses and LR after iteration ``step`` (every :data:`TB_EVERY` iterations)."""
        if self.writer is None or step % TB_EVERY:
            return
        for k in LOSS_KEYS:
            self.writer.add_scalar(f"train/{TB_NAMES[k]}_loss", losses[k], step)
        self.writer.add_scalar("train/lr", lr, step)

    def throughput(self, images_per_s: float, step: int) -> None:
        if self.writer is not None:
            self.writer.add_scalar("train/images_per_s", images_per_s, step)

    def val(self, metrics: dict[str, Any], step: int) -> None:
        if self.writer is not None:
            for k in VAL_SCALARS:
                self.writer.add_scalar(f"val/{k}", metrics[k], step)

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def progress(total: int, desc: str, enabled: bool) -> tqdm:
    return tqdm(total=total, desc=desc, unit="it", disable=not enabled, leave=False)


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
