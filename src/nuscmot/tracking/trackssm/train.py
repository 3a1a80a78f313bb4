"""TrackSSM training (S2L loss over decoder layers, multi-step rollouts) and held-out metrics.

Loss per rollout step and decoder layer i (of L), with x0 the layer's input box and
t_i = x0' + (i+1)(gt - x0')/L the step-by-step linear target (x0' the last history box):

- ``loss: smooth_l1_giou`` (default): smooth-L1 (beta 0.1) between the layer's step and the
  step that reaches t_i, in units of the training set's delta spread (for the ``residual``
  head: its raw offsets; for the ``absolute`` head: (box_i - t_i) / spread), plus
  1 - GIoU(box_i, t_i);
- ``loss: published`` (the official code's): smooth-L1 (beta 1) between box_i and t_i in
  normalised image units, averaged over the 4 coordinates; no GIoU;

summed over layers, averaged over valid targets and rollout steps.

Optimiser AdamW with a cosine schedule, seeded (numpy ``default_rng`` for sampling and
augmentation, ``torch.manual_seed`` for the initialisation). Training stops after ``epochs``
or ``patience`` epochs without held-out improvement, never on wall-clock time, so the same
inputs and config give the same model on any machine, however loaded.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nuscmot.common.device import DEVICES
from nuscmot.common.fields import AT_LEAST_0, AT_LEAST_1, NON_EMPTY_SET, POSITIVE, UNIT, check_fields, limited
from nuscmot.tracking.boxes import cxcywh_to_tlwh, iou_pairs, tlwh_to_cxcywh, tlwh_to_xyah, xyah_to_tlwh
from nuscmot.tracking.kalman import KalmanConfig, KalmanFilter
from nuscmot.tracking.trackssm.data import CLASS_NAMES, Batch, TrackTable, make_batch, sample_index
from nuscmot.tracking.trackssm.model import HEADS, ModelConfig, TrackSSM, generalized_iou, history_features, s2l_targets

log = logging.getLogger(__name__)

SMOOTH_L1_BETA = 0.1
LOSSES = ("smooth_l1_giou", "published")
# Held-out protocol, fixed so that runs with different training augmentation compare: the
# observations are jittered and gapped like the default GT-derived detections.
EVAL_CONTEXT = 15  # history positions the Kalman filter sees
EVAL_STEPS = 3  # rollout length: 1-step and 3-step predictions
EVAL_JITTER = 0.05  # sigma x box size
EVAL_DROP_PROB = 0.2  # share of windows with a 1-3 frame gap in the history


@dataclass(frozen=True)
class TrainConfig:
    """The ``trackssm`` config slice."""

    history: int = limited(5, minimum=2, maximum=32)
    d_model: int = limited(64, minimum=4)
    encoder_layers: int = limited(2, **AT_LEAST_1)
    decoder_layers: int = limited(3, **AT_LEAST_1)
    d_state: int = limited(16, **AT_LEAST_1)
    expand: int = limited(2, **AT_LEAST_1)
    decoder_expand: int = limited(1, **AT_LEAST_1)
    head: str = limited("residual", enum=HEADS)
    batch_size: int = limited(256, **AT_LEAST_1)
    epochs: int = limited(30, **AT_LEAST_1)
    lr: float = limited(0.002, **POSITIVE)
    weight_decay: float = limited(0.01, **AT_LEAST_0)
    rollout_steps: int = limited(3, **AT_LEAST_1)
    drop_prob: float = limited(0.2, **UNIT)
    jitter: float = limited(0.05, **UNIT)
    shift_prob: float = limited(0.1, **UNIT)
    patience: int = limited(5, **AT_LEAST_1)
    seed: int = limited(0, **AT_LEAST_0)  # the seed one job trains with (the workflow sets it from seeds)
    seeds: tuple[int, ...] = limited((0,), **NON_EMPTY_SET, items=AT_LEAST_0)  # one model per seed in the workflow
    loss: str = limited("smooth_l1_giou", enum=LOSSES)
    device: str = limited("auto", enum=DEVICES)

    def __post_init__(self) -> None:
        check_fields(self, "trackssm")

    def model_config(self) -> ModelConfig:
        names = {f.name for f in fields(ModelConfig)}
        return ModelConfig(**{k: v for k, v in self.__dict__.items() if k in names})


# -- model rollouts --------------------------------------------------------------------------
def rollout(model: TrackSSM, history: torch.Tensor, feed: torch.Tensor, feed_obs: torch.Tensor, steps: int):
    """Predict ``steps`` frames ahead, appending after each step the observation where
    ``feed_obs`` else the (detached) prediction, as the tracker does during a gap.

    Yields (x0, boxes per layer, offsets per layer) per step.
    """
    hist = history
    for j in range(steps):
        boxes, offsets = model(hist)
        yield hist[:, -1], boxes, offsets
        nxt = torch.where(feed_obs[:, j : j + 1], feed[:, j], boxes[-1].detach())
        hist = torch.cat([hist[:, 1:], nxt[:, None]], dim=1)


def batch_loss(model: TrackSSM, tensors: dict[str, torch.Tensor], steps: int, loss: str = "smooth_l1_giou") -> torch.Tensor:
    L = len(model.decoder)
    total = tensors["history"].new_zeros(())
    for j, (x0, boxes, raws) in enumerate(
        rollout(model, tensors["history"], tensors["feed"], tensors["feed_obs"], steps)
    ):
        valid = tensors["target_valid"][:, j]
        n = valid.sum().clamp_min(1)
        targets = s2l_targets(x0, tensors["target"][:, j], L)
        box_in = x0
        for i in range(L):
            total = total + (layer_loss(model, raws[i], boxes[i], box_in, targets[i], loss) * valid).sum() / n
            box_in = boxes[i].detach()
    return total / steps


def layer_loss(model: TrackSSM, raw: torch.Tensor, box: torch.Tensor, box_in: torch.Tensor, target: torch.Tensor,
               loss: str) -> torch.Tensor:
    """Per-row loss of one decoder layer (see the module docstring)."""
    if loss == "published":
        return F.smooth_l1_loss(box, target, beta=1.0, reduction="none").mean(-1)
    if model.cfg.head == "residual":
        step, step_t = raw, (target - box_in) / model.offset_scale
    else:
        step, step_t = (box - box_in) / model.offset_scale, (target - box_in) / model.offset_scale
    l1 = F.smooth_l1_loss(step, step_t, beta=SMOOTH_L1_BETA, reduction="none").sum(-1)
    return l1 + 1.0 - generalized_iou(box, target)


def to_tensors(batch: Batch, history: int, device: torch.device) -> dict[str, torch.Tensor]:
    def t(a, dtype=torch.float32):
        return torch.from_numpy(np.ascontiguousarray(a)).to(device, dtype)

    return {
        "history": t(batch.history[:, -history:]),
        "feed": t(batch.feed),
        "feed_obs": t(batch.feed_obs, torch.bool),
        "target": t(batch.target),
        "target_valid": t(batch.target_valid),
    }


def fit_statistics(table: TrackTable, samples: np.ndarray, cfg: TrainConfig, rng: np.random.Generator):
    """Feature mean/std and offset scale (spread of one-step GT deltas) from training windows."""
    pick = samples[rng.permutation(len(samples))[: min(len(samples), 20000)]]
    b = make_batch(table, pick, before=cfg.history, after=1, history=cfg.history, jitter=cfg.jitter,
                   drop_prob=cfg.drop_prob, shift_prob=0.0, rng=rng)
    feats = history_features(torch.from_numpy(b.history)).reshape(-1, 8).numpy()
    delta = b.target[:, 0] - b.history[:, -1]
    return feats.mean(0), feats.std(0), np.sqrt((delta**2).mean(0))


# -- training ----------------------------------------------------------------------------------
def train(
    cfg: TrainConfig,
    train_table: TrackTable,
    val_table: TrackTable,
    *,
    device: torch.device = torch.device("cpu"),
    writer: Any = None,
    progress: bool = True,
) -> tuple[TrackSSM, dict[str, Any]]:
    """Train on ``train_table``, early-stop on ``val_table``; returns the best model (eval mode)."""
    from tqdm import tqdm

    t0 = time.monotonic()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = TrackSSM(cfg.model_config()).to(device)
    train_samples = sample_index(train_table)
    val_samples = sample_index(val_table)
    if not len(train_samples):
        raise ValueError("no training samples (tracks need at least two frames)")
    model.set_statistics(*fit_statistics(train_table, train_samples, cfg, rng))
    model.to(device)

    steps_per_epoch = max(1, math.ceil(len(train_samples) / cfg.batch_size))
    total_steps = cfg.epochs * steps_per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / total_steps)))

    val_batches = heldout_batches(cfg, val_table, val_samples, device)

    best = {"loss": math.inf, "epoch": 0, "state": copy.deepcopy(model.state_dict())}
    history: list[dict[str, float]] = []
    stopped = "epochs"
    step = 0
    bar = tqdm(range(1, cfg.epochs + 1), desc="trackssm", disable=not progress, leave=False)
    for epoch in bar:
        order = train_samples[rng.permutation(len(train_samples))]
        losses, step = train_epoch(model, opt, sched, cfg, train_table, order, rng, device, writer, epoch, step)
        val_loss = evaluate_loss(model, val_batches, cfg.rollout_steps, cfg.loss) if val_batches else float(np.mean(losses))
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "val_loss": val_loss})
        if writer is not None:
            writer.add_scalar("val/loss", val_loss, epoch)
        bar.set_postfix(train=f"{np.mean(losses):.4f}", val=f"{val_loss:.4f}")
        log.info("epoch %d: train loss %.4f, held-out loss %.4f", epoch, np.mean(losses), val_loss)
        if val_loss < best["loss"]:
            best = {"loss": val_loss, "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
        elif epoch - best["epoch"] >= cfg.patience:
            stopped = "early_stopping"
            break
    model.load_state_dict(best["state"])
    model.eval()
    report = {
        "epochs_run": len(history),
        "best_epoch": best["epoch"],
        "best_val_loss": best["loss"],
        "stopped_by": stopped,
        "steps": step,
        "minutes": (time.monotonic() - t0) / 60,
        "train_samples": int(len(train_samples)),
        "val_samples": int(len(val_samples)),
        "history": history,
    }
    return model, report


def heldout_batches(cfg: TrainConfig, val_table: TrackTable, val_samples: np.ndarray,
                    device: torch.device) -> list[dict[str, torch.Tensor]]:
    """Held-out batches, fixed once (seeded): the training augmentation minus the shift."""
    val_rng = np.random.default_rng(cfg.seed + 1)
    return [
        to_tensors(make_batch(val_table, val_samples[i : i + 4096], before=cfg.history, after=cfg.rollout_steps,
                              history=cfg.history, jitter=cfg.jitter, drop_prob=cfg.drop_prob, shift_prob=0.0,
                              rng=val_rng), cfg.history, device)
        for i in range(0, len(val_samples), 4096)
    ]


def train_epoch(model: TrackSSM, opt: torch.optim.Optimizer, sched: Any, cfg: TrainConfig, train_table: TrackTable,
                order: np.ndarray, rng: np.random.Generator, device: torch.device, writer: Any, epoch: int,
                step: int) -> tuple[list[float], int]:
    """One pass over ``order`` (training samples, shuffled): per-batch losses and the step count."""
    model.train()
    losses: list[float] = []
    for i in range(0, len(order), cfg.batch_size):
        batch = make_batch(train_table, order[i : i + cfg.batch_size], before=cfg.history, after=cfg.rollout_steps,
                           history=cfg.history, jitter=cfg.jitter, drop_prob=cfg.drop_prob,
                           shift_prob=cfg.shift_prob, rng=rng)
        loss = batch_loss(model, to_tensors(batch, cfg.history, device), cfg.rollout_steps, cfg.loss)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite training loss at epoch {epoch}, step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        step += 1
        losses.append(float(loss.detach()))
        if writer is not None:
            writer.add_scalar("train/loss", losses[-1], step)
            writer.add_scalar("train/lr", sched.get_last_lr()[0], step)
    return losses, step


@torch.no_grad()
def evaluate_loss(model: TrackSSM, batches: list[dict[str, torch.Tensor]], steps: int, loss: str = "smooth_l1_giou") -> float:
    model.eval()
    total, n = 0.0, 0
    for t in batches:
        k = len(t["history"])
        total += float(batch_loss(model, t, steps, loss).detach()) * k
        n += k
    model.train()
    return total / max(n, 1)


# -- held-out prediction error -------------------------------------------------------------
def heldout_metrics(model: TrackSSM, table: TrackTable, cfg: TrainConfig, *, frame_rate: float,
                    kalman: KalmanConfig | None = None, device=torch.device("cpu")) -> dict:
    """Mean IoU of 1-step and 3-step predictions of TrackSSM, the Kalman filter the tracker runs
    (``kalman``, default :class:`KalmanConfig`'s, with its velocity noise scaled to the
    trajectories' ``frame_rate`` as ``run_tracker`` scales it) and constant
    position on the same held-out windows (same jittered observations, same gaps; see the
    EVAL_* protocol constants), overall, by class and by history ("continuous" vs
    "after_gap": the last ``history`` observations contain a gap filled by interpolation, as
    the tracker's re-anchoring does). The 3-step prediction rolls forward over two frames
    without observation."""
    kalman = kalman or KalmanConfig()
    kf = KalmanFilter(kalman.std_weight_position, kalman.velocity_weight(frame_rate))
    samples = sample_index(table)
    rng = np.random.default_rng(cfg.seed + 2)
    before = max(cfg.history, EVAL_CONTEXT)
    preds: dict[str, list[np.ndarray]] = {"trackssm": [], "kalman": [], "constant_position": []}
    parts: list[Batch] = []
    for i in range(0, len(samples), 4096):
        b = make_batch(table, samples[i : i + 4096], before=before, after=EVAL_STEPS, history=cfg.history,
                       jitter=EVAL_JITTER, drop_prob=EVAL_DROP_PROB, shift_prob=0.0, rng=rng, rollout_gap=EVAL_STEPS)
        parts.append(b)
        preds["trackssm"].append(trackssm_rollout(model, b, cfg.history, EVAL_STEPS, device))
        preds["kalman"].append(kalman_rollout(b, EVAL_STEPS, kf))
        preds["constant_position"].append(np.repeat(b.history[:, -1:], EVAL_STEPS, axis=1))
    if not parts:
        return {"n_samples": 0, "overall": {}, "by_class": {}, "by_history": {}, "kalman": kalman_used(kf, frame_rate)}
    target = np.concatenate([b.target for b in parts])
    valid = np.concatenate([b.target_valid for b in parts])
    cls = np.concatenate([b.cls for b in parts])
    gap = np.concatenate([b.after_gap for b in parts])
    ious = {
        name: np.stack([iou_pairs(cxcywh_to_tlwh(np.concatenate(p)[:, s]), cxcywh_to_tlwh(target[:, s]))
                        for s in range(EVAL_STEPS)], axis=1)
        for name, p in preds.items()
    }

    def summary(mask: np.ndarray) -> dict:
        out: dict[str, Any] = {}
        for name, iou in ious.items():
            out[name] = {}
            for label, s in (("iou_1step", 0), ("iou_3step", EVAL_STEPS - 1)):
                m = mask & valid[:, s]
                out[name][label] = float(iou[m, s].mean()) if m.any() else None
        out["n_1step"] = int((mask & valid[:, 0]).sum())
        out["n_3step"] = int((mask & valid[:, EVAL_STEPS - 1]).sum())
        return out

    everything = np.ones(len(target), dtype=bool)
    return {
        "n_samples": int(len(target)),
        "overall": summary(everything),
        "by_class": {CLASS_NAMES[c - 1] if 1 <= c <= 7 else str(c): summary(cls == c) for c in sorted(set(cls.tolist()))},
        "by_history": {"continuous": summary(~gap), "after_gap": summary(gap)},
        "kalman": kalman_used(kf, frame_rate),
    }


def kalman_used(kf: KalmanFilter, frame_rate: float) -> dict:
    """What the held-out Kalman filter was: its noise weights at the trajectories' frame rate."""
    return {"frame_rate": frame_rate, "std_weight_position": kf.std_weight_position,
            "std_weight_velocity": kf.std_weight_velocity}


@torch.inference_mode()
def trackssm_rollout(model: TrackSSM, batch: Batch, history: int, steps: int, device) -> np.ndarray:
    t = to_tensors(batch, history, device)
    out = [boxes[-1] for _, boxes, _ in rollout(model, t["history"], t["feed"], t["feed_obs"], steps)]
    return torch.stack(out, dim=1).to("cpu", torch.float64).numpy()


def kalman_rollout(batch: Batch, steps: int, kf: KalmanFilter) -> np.ndarray:
    """The Kalman filter ``kf`` (the tracker's, at the data's frame rate) run over each window's history (in pixels, starting at the
    first real position), then ``steps`` predictions (updated where observations are fed)."""
    k, before, _ = batch.history.shape
    scale = np.concatenate([batch.img, batch.img], axis=1)[:, None, :]
    z = tlwh_to_xyah(cxcywh_to_tlwh(batch.history * scale))
    feed = tlwh_to_xyah(cxcywh_to_tlwh(batch.feed * scale))
    first_real = np.argmax(batch.real, axis=1)
    mean, cov = kf.initiate(z[:, 0])
    for j in range(1, before):
        init = j <= first_real
        m, c = kf.predict(mean, cov)
        m, c = kf.update(m, c, z[:, j])
        mi, ci = kf.initiate(z[:, j])
        mean = np.where(init[:, None], mi, m)
        cov = np.where(init[:, None, None], ci, c)
    out = np.zeros((k, steps, 4))
    observed = np.ones(k, dtype=bool)
    for s in range(steps):
        mean = mean.copy()
        mean[~observed, 7] = 0.0  # ByteTrack: a lost track's height velocity is zeroed
        mean, cov = kf.predict(mean, cov)
        out[:, s] = tlwh_to_cxcywh(xyah_to_tlwh(mean[:, :4])) / scale[:, 0]
        observed = batch.feed_obs[:, s]
        if observed.any():
            mean[observed], cov[observed] = kf.update(mean[observed], cov[observed], feed[observed, s])
    return out
