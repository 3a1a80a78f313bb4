"""Trajectory windows for TrackSSM training and held-out evaluation.

Trajectories come from the convert stage's parquet (one row per track and keyframe). Their
frame rate is measured from the timestamps (:func:`frame_rate`) and recorded in the model
with their image sizes (:func:`image_sizes`). Each track becomes a dense run of frames
(missing frames filled by linear interpolation and flagged unobserved), boxes as
(cx, cy, w, h) divided by the image size.

A *sample* is a (track, target position) pair whose target box was observed. Its *window*
spans ``before`` positions of history and ``after`` target positions. Short tracks are padded
by repeating the oldest box (never dropped). :func:`make_batch` turns windows into what the
tracker would feed the model:

- observations jittered like a detector's (sigma ``jitter`` x box size), GT targets clean;
- a gap of 1-3 observations dropped from the history (probability ``drop_prob``) and filled
  by interpolation between the observations around it, as the tracker's re-anchoring does;
- optionally the whole window shifted and clipped to the image (objects entering/leaving);
- for the rollout steps, whether each step's observation is fed back or the model's own
  prediction is (a dropped run of 1-3 frames with probability ``drop_prob``), so predictions
  across a gap are trained, not only one step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuscmot.common.errors import InputError

REQUIRED_COLUMNS = ("track_id", "frame", "img_w", "img_h", "x", "y", "w", "h", "class_id")
TIME_COLUMN = "timestamp"  # microseconds, as nuScenes' sample_data
CLASS_NAMES = ("car", "truck", "bus", "trailer", "pedestrian", "motorcycle", "bicycle")  # class_id 1..7


@dataclass
class TrackTable:
    """All tracks as dense runs, concatenated."""

    boxes: np.ndarray  # (P, 4) normalised cxcywh per dense position
    observed: np.ndarray  # (P,) bool: a GT box exists at this position
    start: np.ndarray  # (T,) first position of each track in ``boxes``
    length: np.ndarray  # (T,)
    cls: np.ndarray  # (T,) class id 1..7
    img: np.ndarray  # (T, 2) image width, height in px
    track_id: np.ndarray  # (T,)

    def __len__(self) -> int:
        return len(self.start)


def read_trajectories(path: str | Path):
    """The trajectory parquet as a DataFrame, validated (InputError naming the file)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "missing trajectory parquet")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for non-parquet input
        raise InputError(path, f"not a readable parquet file ({type(exc).__name__})") from None
    missing = [c for c in (*REQUIRED_COLUMNS, TIME_COLUMN) if c not in df.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}")
    df = df[[*REQUIRED_COLUMNS, TIME_COLUMN]]
    values = df.to_numpy(dtype=np.float64, na_value=np.nan)
    if len(values) and not np.isfinite(values).all():
        raise InputError(path, "non-finite values in the trajectory columns")
    if len(values) and ((df["w"] <= 0).any() or (df["h"] <= 0).any()):
        raise InputError(path, "non-positive box width or height")
    if len(values) and ((df["img_w"] <= 0).any() or (df["img_h"] <= 0).any()):
        raise InputError(path, "non-positive image size")
    if df.duplicated(["track_id", "frame"]).any():
        raise InputError(path, "duplicate (track_id, frame) rows")
    return df


def frame_rate(df, path: str | Path) -> float:
    """Frames per second of the trajectories: the median, over consecutive rows of a track, of
    frame steps per second of timestamp (InputError naming ``path`` when it cannot be measured
    or the timestamps run backwards)."""
    arr = df[["track_id", "frame", TIME_COLUMN]].to_numpy(dtype=np.float64)
    arr = arr[np.lexsort((arr[:, 1], arr[:, 0]))]
    same = arr[1:, 0] == arr[:-1, 0]
    steps = np.diff(arr[:, 1])[same]
    seconds = np.diff(arr[:, 2])[same] / 1e6
    if not len(steps):
        raise InputError(path, "no track with two frames: the frame rate cannot be measured from the timestamps")
    if (seconds <= 0).any():
        raise InputError(path, "timestamps do not increase with the frame index within a track")
    return float(np.median(steps / seconds))


def image_sizes(df) -> tuple[tuple[int, int], ...]:
    """The distinct (img_w, img_h) of the trajectories, sorted."""
    pairs = df[["img_w", "img_h"]].drop_duplicates().to_numpy(dtype=np.int64)
    return tuple(sorted((int(w), int(h)) for w, h in pairs))


def build_tracks(df) -> TrackTable:
    """Dense, interpolated tracks from a trajectory DataFrame (sorted by track id)."""
    arr = df[list(REQUIRED_COLUMNS)].to_numpy(dtype=np.float64)
    arr = arr[np.lexsort((arr[:, 1], arr[:, 0]))]
    tid, frame = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
    if not len(arr):
        z = np.zeros(0, dtype=np.int64)
        return TrackTable(np.zeros((0, 4)), np.zeros(0, bool), z, z, z, np.zeros((0, 2)), z)
    cut = np.flatnonzero(np.diff(tid)) + 1
    first, last = np.r_[0, cut], np.r_[cut, len(arr)]
    boxes, observed, starts, lengths = [], [], [], []
    pos = 0
    for a, b in zip(first, last):
        f = frame[a:b] - frame[a]
        n = int(f[-1]) + 1
        img = arr[a, 2:4]
        xywh = arr[a:b, 4:8]
        norm = np.column_stack([xywh[:, :2] + xywh[:, 2:] / 2, xywh[:, 2:]]) / np.r_[img, img]
        dense = np.empty((n, 4))
        for k in range(4):
            dense[:, k] = np.interp(np.arange(n), f, norm[:, k])
        obs = np.zeros(n, dtype=bool)
        obs[f] = True
        boxes.append(dense)
        observed.append(obs)
        starts.append(pos)
        lengths.append(n)
        pos += n
    return TrackTable(
        boxes=np.concatenate(boxes),
        observed=np.concatenate(observed),
        start=np.asarray(starts, dtype=np.int64),
        length=np.asarray(lengths, dtype=np.int64),
        cls=arr[first, 8].astype(np.int64),
        img=arr[first, 2:4].copy(),
        track_id=tid[first],
    )


def sample_index(table: TrackTable) -> np.ndarray:
    """(K, 2) [track, position]: every observed position with at least one position before it."""
    if not len(table):
        return np.zeros((0, 2), dtype=np.int64)
    track = np.repeat(np.arange(len(table)), table.length)
    pos = np.arange(len(track)) - table.start[track]
    keep = table.observed & (pos >= 1)
    return np.column_stack([track[keep], pos[keep]]).astype(np.int64)


@dataclass
class Batch:
    """Model-ready arrays for K samples (normalised cxcywh)."""

    history: np.ndarray  # (K, before, 4) what the tracker would hold before the first target
    real: np.ndarray  # (K, before) bool: history position inside the track (not padding)
    feed: np.ndarray  # (K, after, 4) observation at each target position (jittered)
    feed_obs: np.ndarray  # (K, after) bool: that observation is fed back (else the prediction)
    target: np.ndarray  # (K, after, 4) clean GT
    target_valid: np.ndarray  # (K, after) bool
    after_gap: np.ndarray  # (K,) bool: an unobserved position in the last ``history`` entries
    cls: np.ndarray  # (K,)
    img: np.ndarray  # (K, 2)


def make_batch(
    table: TrackTable,
    samples: np.ndarray,
    *,
    before: int,
    after: int,
    history: int,
    jitter: float,
    drop_prob: float,
    shift_prob: float,
    rng: np.random.Generator,
    rollout_gap: int | None = None,
) -> Batch:
    """Windows for ``samples`` with augmentation (see module docstring).

    ``rollout_gap``: force that many leading rollout steps without observation (held-out
    k-step evaluation); ``None`` draws dropped runs with ``drop_prob``.
    """
    k = len(samples)
    track, pos = samples[:, 0], samples[:, 1]
    offs = np.arange(-before, after)
    p = pos[:, None] + offs[None, :]  # (K, W)
    length = table.length[track][:, None]
    inside = (p >= 0) & (p < length)
    idx = table.start[track][:, None] + np.clip(p, 0, length - 1)
    gt = table.boxes[idx]  # pads repeat the first / last box
    observed = table.observed[idx] & inside

    if shift_prob > 0:
        gt, visible = _shift_and_clip(gt, rng.random(k) < shift_prob, rng, table.img[track])
        observed &= visible
    # Detector-like observations: jitter, then padding repeats the first real observation.
    noise = rng.standard_normal(gt.shape) * jitter
    obs = gt + noise * gt[..., [2, 3, 2, 3]]
    obs[..., 2:] = np.maximum(obs[..., 2:], 1e-4)
    first_real = np.maximum(before - pos, 0).clip(max=before + after - 1)
    pad = p < 0
    obs = np.where(pad[..., None], obs[np.arange(k), first_real][:, None, :], obs)

    # History gaps of 1-3 frames, filled by interpolation like the tracker's re-anchoring.
    hist_obs = observed[:, :before] | pad[:, :before]
    drop = rng.random(k) < drop_prob
    glen = rng.integers(1, 4, k)
    gend = before - 2 - rng.integers(0, max(history - 2, 1), k)  # last dropped position
    for g in range(3):
        col = gend - g
        ok = drop & (g < glen) & (col > first_real)
        hist_obs[np.flatnonzero(ok), col[ok]] = False
    hist = _interpolate_unobserved(obs[:, :before], hist_obs)
    recent = slice(before - history, before)
    after_gap = ~(hist_obs[:, recent] | pad[:, :before][:, recent]).all(axis=1)

    # Rollout: observations fed back unless dropped (a run of 1-3 leading steps) or missing.
    feed_obs = observed[:, before:].copy()
    if rollout_gap is None:
        run = np.where(rng.random(k) < drop_prob, rng.integers(1, 4, k), 0)
    else:
        run = np.full(k, rollout_gap)
    feed_obs &= np.arange(after)[None, :] >= run[:, None]
    return Batch(
        history=hist,
        real=~pad[:, :before],
        feed=obs[:, before:],
        feed_obs=feed_obs,
        target=gt[:, before:],
        target_valid=observed[:, before:],
        after_gap=after_gap,
        cls=table.cls[track],
        img=table.img[track],
    )


def _interpolate_unobserved(boxes: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Replace unobserved positions by linear interpolation between the nearest observed ones
    in the same row (held constant beyond the last observed one)."""
    k, w, _ = boxes.shape
    if observed.all():
        return boxes
    pos = np.broadcast_to(np.arange(w), (k, w))
    prev = np.maximum.accumulate(np.where(observed, pos, -1), axis=1)
    nxt = np.flip(np.minimum.accumulate(np.flip(np.where(observed, pos, w), axis=1), axis=1), axis=1)
    prev_c = np.where(prev < 0, nxt, prev).clip(0, w - 1)
    nxt_c = np.where(nxt >= w, prev_c, nxt).clip(0, w - 1)
    span = np.maximum(nxt_c - prev_c, 1)
    frac = ((pos - prev_c) / span).clip(0, 1)[..., None]
    rows = np.arange(k)[:, None]
    a, b = boxes[rows, prev_c], boxes[rows, nxt_c]
    filled = a + frac * (b - a)
    return np.where(observed[..., None], boxes, filled)


def _shift_and_clip(gt: np.ndarray, which: np.ndarray, rng: np.random.Generator, img: np.ndarray):
    """Shift selected windows so the object may cross an image border and clip the boxes to the
    image; returns the boxes and whether each is still visible (>= 2 px wide and high)."""
    if not which.any():
        return gt, np.ones(gt.shape[:2], dtype=bool)
    out = gt.copy()
    k = len(gt)
    dx = rng.uniform(-0.5, 0.5, k) * which
    dy = rng.uniform(-0.15, 0.15, k) * which
    out[..., 0] += dx[:, None]
    out[..., 1] += dy[:, None]
    x1 = np.clip(out[..., 0] - out[..., 2] / 2, 0, 1)
    x2 = np.clip(out[..., 0] + out[..., 2] / 2, 0, 1)
    y1 = np.clip(out[..., 1] - out[..., 3] / 2, 0, 1)
    y2 = np.clip(out[..., 1] + out[..., 3] / 2, 0, 1)
    min_w = (2.0 / img[:, 0])[:, None]
    min_h = (2.0 / img[:, 1])[:, None]
    visible = (x2 - x1 >= min_w) & (y2 - y1 >= min_h)
    w = np.maximum(x2 - x1, 1e-4)
    h = np.maximum(y2 - y1, 1e-4)
    clipped = np.stack([(x1 + x2) / 2, (y1 + y2) / 2, w, h], axis=-1)
    return np.where(which[:, None, None], clipped, gt), visible | ~which[:, None]
