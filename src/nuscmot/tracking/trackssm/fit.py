"""TrackSSM training as one job: read the trajectories, train (early stopping on the held-out
loss, TensorBoard scalars) and write the checkpoint (with what it was trained on) and the
training report. The held-out comparison with the Kalman filter and constant position is its
own job (:func:`measure_heldout`): it depends on the Kalman slice, which never retrains TrackSSM."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import torch

from nuscmot.common.config import from_dict
from nuscmot.common.device import resolve_device
from nuscmot.common.errors import InputError, TrainingError
from nuscmot.common.io import write_json
from nuscmot.tracking.kalman import KalmanConfig
from nuscmot.tracking.trackssm.checkpoint import TrainedOn, load_checkpoint, save_checkpoint
from nuscmot.tracking.trackssm.data import TrackTable, build_tracks, frame_rate, image_sizes, read_trajectories
from nuscmot.tracking.trackssm.train import TrainConfig, heldout_metrics, train

log = logging.getLogger(__name__)


def format_table(metrics: dict) -> str:
    """Held-out IoU table (markdown) for the log."""
    from tabulate import tabulate

    rows = []
    slices = [("overall", metrics["overall"])]
    slices += [(f"history: {k}", v) for k, v in metrics["by_history"].items()]
    slices += [(f"class: {k}", v) for k, v in metrics["by_class"].items()]
    for label, s in slices:
        if not s:
            continue
        row = [label, s["n_1step"]]
        for model in ("trackssm", "kalman", "constant_position"):
            row += [s[model]["iou_1step"], s[model]["iou_3step"]]
        rows.append(row)
    head = ["slice", "n", "ssm 1-step", "ssm 3-step", "kf 1-step", "kf 3-step", "const 1-step", "const 3-step"]
    return tabulate(rows, head, tablefmt="github", floatfmt=".3f")


def load_tracks(train_path: Path, val_path: Path) -> tuple[TrackTable, TrackTable, TrainedOn]:
    """Training and held-out tracks, and the frame rate and image sizes of the training data."""
    train_df = read_trajectories(train_path)
    train_table = build_tracks(train_df)
    val_table = build_tracks(read_trajectories(val_path))
    if not len(train_table) or (train_table.length < 2).all():
        raise InputError(train_path, "no track with two or more frames to learn from")
    trained_on = TrainedOn(round(frame_rate(train_df, train_path), 3), image_sizes(train_df))
    log.info("training data: %g frames/s, image size(s) %s", trained_on.frame_rate,
             ", ".join(f"{w}x{h}" for w, h in trained_on.image_sizes))
    if not len(val_table) or (val_table.length < 2).all():
        log.warning("%s: no held-out track with two or more frames; early stopping uses the training loss", val_path)
    return train_table, val_table, trained_on


def fit(cfg: TrainConfig, train_table: TrackTable, val_table: TrackTable, device: torch.device, runs_dir: Path):
    """(model, training report), with TensorBoard scalars in ``runs_dir``."""
    from torch.utils.tensorboard import SummaryWriter

    runs_dir.mkdir(parents=True, exist_ok=True)
    with SummaryWriter(str(runs_dir)) as writer:
        try:
            return train(cfg, train_table, val_table, device=device, writer=writer)
        except FloatingPointError as exc:
            raise TrainingError(str(exc)) from None


def train_trackssm(cfg: TrainConfig, train_path: Path, val_path: Path, runs_dir: Path, model_path: Path,
                   training_path: Path) -> dict:
    """Train TrackSSM on ``train_path``'s trajectories (early stopping on ``val_path``'s); write
    the checkpoint and the training report; return the report."""
    try:
        cfg.model_config()
    except ValueError as exc:
        raise InputError("trackssm", str(exc), key="d_model") from None
    torch.set_num_threads(1)
    device = resolve_device(cfg.device, "trackssm")
    train_table, val_table, trained_on = load_tracks(train_path, val_path)
    log.info("training on %d tracks, held out %d tracks, device %s", len(train_table), len(val_table), device)
    model, report = fit(cfg, train_table, val_table, device, runs_dir)
    minutes = report.pop("minutes")
    cfg_dict = dataclasses.asdict(cfg)
    meta = {"trackssm": cfg_dict, "best_epoch": report["best_epoch"], "parameters": model.n_parameters}
    save_checkpoint(model_path, model.cpu(), trained_on, meta=meta)
    doc = {"config": cfg_dict, "trained_on": trained_on_json(trained_on), "training": report}
    write_json(training_path, doc)
    log.info("trained %d epochs in %.1f min (best %d, stopped by %s)", report["epochs_run"], minutes,
             report["best_epoch"], report["stopped_by"])
    return doc


def trained_on_json(trained_on: TrainedOn) -> dict:
    return {"frame_rate": trained_on.frame_rate, "image_sizes": [list(wh) for wh in trained_on.image_sizes]}


def measure_heldout(model_path: Path, val_path: Path, kalman: KalmanConfig, out: Path) -> dict:
    """Held-out prediction IoU of the trained model, of the Kalman filter the tracker runs
    (``kalman``: the ``tracking.motion.kalman`` slice, its velocity noise scaled to the training
    trajectories' frame rate as ``run_tracker`` scales it) and of constant position, on the same
    held-out windows; written to ``out``."""
    torch.set_num_threads(1)
    model, trained_on, meta = load_checkpoint(model_path)
    cfg = from_dict(TrainConfig, meta.get("trackssm"), where=f"{model_path} [trackssm]")
    val_table = build_tracks(read_trajectories(val_path))
    metrics = heldout_metrics(model, val_table, cfg, frame_rate=trained_on.frame_rate, kalman=kalman)
    write_json(out, {"trained_on": trained_on_json(trained_on), "kalman": dataclasses.asdict(kalman),
                     "kalman_velocity_weight": kalman.velocity_weight(trained_on.frame_rate), "heldout": metrics})
    if metrics["overall"]:
        log.info("held-out prediction IoU:\n%s", format_table(metrics))
    return metrics
