"""GT-derived detections with controlled degradation (pure functions; the CLI is
``python -m nuscmot.stages.gt_detections``).

:func:`degrade` turns MOT ground truth rows into detection rows:

- drop boxes (detection gaps): independently with probability ``drop_rate``, or in bursts
  of 2-4 consecutive frames of a track (``drop_mode: burst``) at the same expected rate;
- jitter the survivors: centre and size get Gaussian noise with sigma ``jitter`` times the
  box width / height;
- add false positives: Poisson(``false_positives_per_frame``) per frame, sized like random
  GT boxes of the sequence, uniformly placed, with a class drawn from the sequence's classes;
- scores uniform in ``[score_low, 1]``.

All randomness comes from the ``rng`` argument, consumed in a fixed order.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuscmot.common.fields import AT_LEAST_0, NON_EMPTY_SET, UNIT, check_fields, limited
from nuscmot.common.io import atomic_dir
from nuscmot.common.mot import read_mot, read_seqinfo, read_seqmap, write_mot

log = logging.getLogger(__name__)

DROP_MODES = ("independent", "burst")
BURST_LENGTHS = (2, 3, 4)


@dataclass(frozen=True)
class DegradeConfig:
    """The ``gt_detections`` config slice."""

    seed: int = limited(0, **AT_LEAST_0)  # the draw one job makes (the workflow sets it from seeds)
    seeds: tuple[int, ...] = limited((0,), **NON_EMPTY_SET, items=AT_LEAST_0)  # draws the workflow makes (tuning: the first)
    drop_rate: float = limited(0.2, minimum=0, exclusiveMaximum=1)
    drop_mode: str = limited("independent", enum=DROP_MODES)
    jitter: float = limited(0.05, **AT_LEAST_0)
    false_positives_per_frame: float = limited(0.5, **AT_LEAST_0)
    score_low: float = limited(0.3, **UNIT)

    def __post_init__(self) -> None:
        check_fields(self, "gt_detections")


def sequence_rng(seed: int, name: str) -> np.random.Generator:
    """Per-sequence generator from the seed and the sequence name (stable across runs)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def drop_mask(track_ids: np.ndarray, cfg: DegradeConfig, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of dropped rows; rows must be sorted by (track id, frame)."""
    n = len(track_ids)
    if cfg.drop_rate == 0 or n == 0:
        return np.zeros(n, dtype=bool)
    if cfg.drop_mode == "independent":
        return rng.random(n) < cfg.drop_rate
    # Bursts: at each kept row a burst starts with probability p and drops L ~ U{2,3,4} rows of
    # the same track (mean 3), so the expected dropped share is 3p / (3p + 1 - p) = drop_rate.
    p = cfg.drop_rate / (3.0 - 2.0 * cfg.drop_rate)
    starts = rng.random(n) < p
    lengths = rng.choice(BURST_LENGTHS, size=n)
    dropped = np.zeros(n, dtype=bool)
    i = 0
    while i < n:
        if starts[i]:
            j = i
            while j < n and j < i + lengths[i] and track_ids[j] == track_ids[i]:
                dropped[j] = True
                j += 1
            i = j
        else:
            i += 1
    return dropped


def degrade(
    gt_rows: np.ndarray,
    cfg: DegradeConfig,
    rng: np.random.Generator,
    *,
    img_size: tuple[float, float] | None = None,
    n_frames: int | None = None,
) -> np.ndarray:
    """MOT gt rows (N, 9) -> MOT det rows (K, 10) (see module docstring).

    ``img_size`` (w, h) bounds false positives and clips boxes (default: the extent of the GT
    boxes); ``n_frames`` is the number of frames that get false positives (default: last GT
    frame). Rows with conf 0 (ignored GT) are skipped.
    """
    gt = np.asarray(gt_rows, dtype=np.float64).reshape(-1, 9)
    gt = gt[gt[:, 6] != 0]
    gt = gt[np.lexsort((gt[:, 0], gt[:, 1]))]  # by track id, then frame
    n_frames = int(n_frames if n_frames is not None else (gt[:, 0].max() if len(gt) else 0))
    if img_size is None:
        if len(gt):
            img_w = float((gt[:, 2] + gt[:, 4]).max())
            img_h = float((gt[:, 3] + gt[:, 5]).max())
        else:
            img_w = img_h = 0.0
    else:
        img_w, img_h = float(img_size[0]), float(img_size[1])

    keep = ~drop_mask(gt[:, 1], cfg, rng)
    kept = gt[keep]
    w, h = kept[:, 4], kept[:, 5]
    noise = rng.standard_normal((len(kept), 4)) * cfg.jitter
    cx = kept[:, 2] + w / 2 + noise[:, 0] * w
    cy = kept[:, 3] + h / 2 + noise[:, 1] * h
    nw = np.maximum(w + noise[:, 2] * w, 1.0)
    nh = np.maximum(h + noise[:, 3] * h, 1.0)
    scores = rng.uniform(cfg.score_low, 1.0, len(kept))
    dets = np.column_stack([kept[:, 0], -np.ones(len(kept)), cx - nw / 2, cy - nh / 2, nw, nh, scores, kept[:, 7]])

    fps = _false_positives(gt, cfg, rng, img_w, img_h, n_frames)
    dets = np.concatenate([dets, fps]) if len(fps) else dets
    dets = _clip(dets, img_w, img_h) if img_size is not None else dets
    dets = dets[(dets[:, 4] >= 1) & (dets[:, 5] >= 1)]
    out = np.column_stack([dets, -np.ones((len(dets), 2))])
    order = np.lexsort((out[:, 3], out[:, 2], out[:, 0]))
    return out[order]


def _false_positives(gt, cfg, rng, img_w, img_h, n_frames) -> np.ndarray:
    if cfg.false_positives_per_frame == 0 or n_frames == 0 or img_w <= 0 or img_h <= 0:
        return np.zeros((0, 8))
    counts = rng.poisson(cfg.false_positives_per_frame, n_frames)
    total = int(counts.sum())
    frames = np.repeat(np.arange(1, n_frames + 1), counts)
    if len(gt):
        pick = rng.integers(0, len(gt), total)
        w, h = gt[pick, 4], gt[pick, 5]
        classes = np.unique(gt[:, 7])
    else:
        w = rng.uniform(0.05, 0.2, total) * img_w
        h = rng.uniform(0.05, 0.2, total) * img_h
        classes = np.arange(1, 8, dtype=np.float64)
    x = rng.uniform(0, 1, total) * np.maximum(img_w - w, 0)
    y = rng.uniform(0, 1, total) * np.maximum(img_h - h, 0)
    cls = classes[rng.integers(0, len(classes), total)]
    scores = rng.uniform(cfg.score_low, 1.0, total)
    return np.column_stack([frames, -np.ones(total), x, y, w, h, scores, cls])


def _clip(dets: np.ndarray, img_w: float, img_h: float) -> np.ndarray:
    x1 = np.clip(dets[:, 2], 0, img_w)
    y1 = np.clip(dets[:, 3], 0, img_h)
    x2 = np.clip(dets[:, 2] + dets[:, 4], 0, img_w)
    y2 = np.clip(dets[:, 3] + dets[:, 5], 0, img_h)
    out = dets.copy()
    out[:, 2], out[:, 3], out[:, 4], out[:, 5] = x1, y1, x2 - x1, y2 - y1
    return out


def write_gt_detections(cfg: DegradeConfig, mot_dir: Path, seqmap: Path, out_dir: Path) -> tuple[int, int]:
    """Degrade every seqmap sequence's ground truth into ``<out_dir>/<seq>.txt`` detections
    (one seeded generator per sequence); returns (GT boxes, detections)."""
    from tqdm import tqdm

    names = read_seqmap(seqmap)
    n_gt = n_det = 0
    with atomic_dir(out_dir) as tmp:
        for name in tqdm(names, desc="gt_detections", leave=False):
            gt = read_mot(mot_dir / name / "gt" / "gt.txt", "gt")
            info = read_seqinfo(mot_dir / name / "seqinfo.ini")
            dets = degrade(gt, cfg, sequence_rng(cfg.seed, name), img_size=(info.width, info.height), n_frames=info.length)
            write_mot(tmp / f"{name}.txt", dets, "det")
            n_gt += len(gt)
            n_det += len(dets)
    log.info("%d sequences: %d GT boxes -> %d detections in %s", len(names), n_gt, n_det, out_dir)
    return n_gt, n_det
