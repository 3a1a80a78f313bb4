"""Build small MOT folders (GT, results, detections, seqinfo, seqmap) for evaluation tests."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from nuscmot.common.mot import SeqInfo, write_mot, write_seqinfo, write_seqmap


def gt_row(frame, tid, x, y, w=20.0, h=20.0, cls=1, vis=4, conf=1):
    return [frame, tid, x, y, w, h, conf, cls, vis]


def res_row(frame, tid, x, y, w=20.0, h=20.0, cls=1, score=0.9):
    return [frame, tid, x, y, w, h, score, cls, -1, -1]


def det_row(frame, x, y, w=20.0, h=20.0, cls=1, score=0.9):
    return [frame, -1, x, y, w, h, score, cls, -1, -1]


def as_rows(rows, ncol):
    return np.asarray(rows, dtype=np.float64).reshape(-1, ncol)


def write_dataset(root: Path, seqs: dict, trackers: tuple[str, ...] = ("trk",)) -> SimpleNamespace:
    """``seqs[name] = {"length": L, "gt": rows, "<tracker>": rows, "dets": rows (optional)}``."""
    root = Path(root)
    paths = SimpleNamespace(
        root=root,
        mot_dir=root / "mot",
        seqmap=root / "seqmap.txt",
        results={t: root / "tracking" / t for t in trackers},
        dets_dir=root / "dets",
    )
    for name, s in seqs.items():
        write_seqinfo(paths.mot_dir / name / "seqinfo.ini", SeqInfo(name=name, length=s["length"], width=800, height=450))
        write_mot(paths.mot_dir / name / "gt" / "gt.txt", as_rows(s["gt"], 9), "gt")
        for t in trackers:
            if t in s:
                write_mot(paths.results[t] / f"{name}.txt", as_rows(s[t], 10), "result")
        if "dets" in s:
            write_mot(paths.dets_dir / f"{name}.txt", as_rows(s["dets"], 10), "det")
    write_seqmap(paths.seqmap, list(seqs))
    for t in trackers:
        paths.results[t].mkdir(parents=True, exist_ok=True)
    return paths


def crafted_case() -> dict:
    """Two GT tracks over 12 frames, with known answers (see HAND_COUNT).

    A (id 1) moves right along y=10, B (id 2) along y=200. Hypothesis 10 follows A and 20
    follows B until frame 6; from frame 7 on they are swapped (10 on B, 20 on A): 2 switches.
    Hypothesis 10 is absent in frames 3-4 (2 misses, 1 fragmentation). Hypothesis 30 is a false
    positive far from everything in frame 9.
    """
    gt, res = [], []
    for f in range(1, 13):
        ax, bx = 10.0 + 10 * f, 15.0 + 10 * f
        gt += [gt_row(f, 1, ax, 10), gt_row(f, 2, bx, 200)]
        on_a, on_b = (10, 20) if f <= 6 else (20, 10)
        if not (on_a == 10 and f in (3, 4)):
            res.append(res_row(f, on_a, ax + 1, 11))
        res.append(res_row(f, on_b, bx - 1, 199))
        if f == 9:
            res.append(res_row(f, 30, 600, 400))
    return {"length": 12, "gt": gt, "trk": res}


# 24 GT boxes; IDTP from the best one-to-one id assignment: A-20 (6 frames) + B-10 (6 frames).
HAND_COUNT = {
    "IDSW": 2,
    "FP": 1,
    "FN": 2,
    "Frag": 1,
    "num_objects": 24,
    "num_predictions": 23,
    "num_matches": 20,  # 22 true positives, 2 of them switches
    "MT": 2,
    "PT": 0,
    "ML": 0,
    "MOTA": 1 - (2 + 1 + 2) / 24,
    "IDF1": 2 * 12 / (24 + 23),
    "IDP": 12 / 23,
    "IDR": 12 / 24,
    "precision": 22 / 23,
    "recall": 22 / 24,
    "MOTP": 19 * 19 / (2 * 400 - 19 * 19),  # every hypothesis is offset by 1 px in x and y
}


def random_sequence(rng: np.random.Generator, length: int = 60, objects: int = 12, *, drop: float = 0.15,
                    swap: float = 0.02, jitter: float = 2.0, fp_per_frame: float = 0.3, width: float = 400.0) -> dict:
    """A random sequence: objects on straight lines, and a tracker output with misses, jitter,
    identity swaps between objects and false positives (all from ``rng``)."""
    gt, res = [], []
    start = rng.integers(1, length // 2, objects)
    stop = np.minimum(length, start + rng.integers(length // 4, length, objects))
    pos = rng.uniform([0, 0], [width, width * 0.6], (objects, 2))
    vel = rng.normal(0, 3.0, (objects, 2))
    size = rng.uniform(15, 45, (objects, 2))
    hyp_of = np.arange(objects) + 100
    next_id = 1000
    for f in range(1, length + 1):
        alive = np.flatnonzero((start <= f) & (f <= stop))
        if len(alive) >= 2 and rng.random() < swap * len(alive):
            i, j = rng.choice(alive, 2, replace=False)
            hyp_of[i], hyp_of[j] = hyp_of[j], hyp_of[i]
        if rng.random() < 0.01 and len(alive):
            k = rng.choice(alive)
            hyp_of[k] = next_id  # a fresh id for an object (an ID switch to a new track)
            next_id += 1
        for k in alive:
            x, y = pos[k] + vel[k] * f
            gt.append(gt_row(f, k + 1, x, y, *size[k], vis=int(rng.integers(1, 5))))
            if rng.random() >= drop:
                dx, dy, dw, dh = rng.normal(0, jitter, 4)
                res.append(res_row(f, hyp_of[k], x + dx, y + dy, max(1.0, size[k, 0] + dw), max(1.0, size[k, 1] + dh)))
        for _ in range(rng.poisson(fp_per_frame)):
            res.append(res_row(f, next_id, *rng.uniform(0, width, 2)))
            next_id += 1
    return {"length": length, "gt": gt, "trk": res}
