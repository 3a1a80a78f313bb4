"""The demo's caps (``max_train_images``, ``max_iters_per_epoch``, ``max_val_images``): a run
that any of them shortened is not the recipe, and says so in one line of its train log and,
through the record its checkpoints carry (``training``), in ``evaluate_detector``'s
``metrics.md``. A cap that leaves nothing out (say 400 val images of 240) is not listed.
"""

from __future__ import annotations

from typing import Any

from nuscmot.detector.config import DetectorConfig

CAP_KEYS = ("max_train_images", "max_iters_per_epoch", "max_val_images")
MARK = "CAPPED RUN (not the full recipe)"


def run_caps(cfg: DetectorConfig, *, train_total: int, train_used: int, batches: int, iters: int,
             images_per_iter: int, val_total: int) -> dict[str, Any]:
    """``{"caps": {key: value}, "summary": "<key> <value> (<what it left>), ..."}`` of the caps
    that shortened this run (``batches``: an epoch's batches uncapped, ``iters``: capped)."""
    caps: dict[str, int] = {}
    parts: list[str] = []
    if cfg.max_train_images and train_used < train_total:
        caps["max_train_images"] = cfg.max_train_images
        parts.append(f"max_train_images {cfg.max_train_images:,} ({train_used:,} of {train_total:,} train images)")
    if cfg.max_iters_per_epoch and iters < batches:
        caps["max_iters_per_epoch"] = cfg.max_iters_per_epoch
        parts.append(f"max_iters_per_epoch {cfg.max_iters_per_epoch:,} "
                     f"({iters * images_per_iter:,} of {train_used:,} images an epoch)")
    if cfg.max_val_images and cfg.max_val_images < val_total:
        caps["max_val_images"] = cfg.max_val_images
        parts.append(f"max_val_images {cfg.max_val_images:,} "
                     f"({cfg.max_val_images:,} of {val_total:,} val images in the in-training evaluation)")
    return {"caps": caps, "summary": ", ".join(parts)}


def caps_line(record: dict[str, Any] | None) -> str:
    """One line for a log or ``metrics.md``: the caps, that there were none, or that the
    checkpoint does not record them (``record`` None: trained before it did, or elsewhere)."""
    if not isinstance(record, dict) or "caps" not in record:
        return "Training caps: not recorded in this checkpoint (not trained by this version of nuscmot.stages.train)"
    if not record["caps"]:
        return "Training: uncapped (no " + ", ".join(CAP_KEYS) + " left anything out)"
    return f"{MARK}: {record['summary']}"
