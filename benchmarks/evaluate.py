"""Benchmark: tracking evaluation of N synthetic sequences, ours vs a naive motmetrics loop.

Every method fills one ``MOTAccumulator`` per sequence and summarises with motmetrics'
``compute_many(..., generate_overall=True)`` over the same metric list, so the numbers must
agree (checked). They differ in how they prepare each frame:

- naive reference: the basic accumulator loop from the motmetrics README, done naively: per
  frame, scan every row in Python to pick the frame's boxes, and call
  ``mm.distances.iou_matrix`` once per (object, hypothesis) pair. It is slow, so it is timed
  on ``--naive-sequences`` sequences and scaled to all of them (printed as such);
- motmetrics' own MOTChallenge path: ``mm.utils.compare_to_groundtruth`` on DataFrames laid
  out like ``mm.io.loadtxt`` output (pandas groupby per frame, per-frame ``iou_matrix``);
- ours (:mod:`nuscmot.evaluation.metrics`): one numpy sort per sequence to group rows by
  frame, one vectorised ``iou_matrix`` per frame; "ours + HOTA" adds TrackEval's HOTA and
  CLEAR on the same data, as ``evaluate_tracking`` does.

    python benchmarks/evaluate.py [--sequences 10 --frames 400 --objects 30 --naive-sequences 1]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def synthetic_sequence(rng: np.random.Generator, frames: int, objects: int) -> tuple[np.ndarray, np.ndarray]:
    """GT (``objects`` boxes alive in every frame, drifting) and noisy results with misses,
    identity swaps and false positives."""
    pos = rng.uniform([0, 0], [1500, 800], (objects, 2))
    vel = rng.normal(0, 2.0, (objects, 2))
    size = rng.uniform(20, 120, (objects, 2))
    hyp_of = np.arange(objects) + 1000
    next_id = 5000
    gt, res = [], []
    for f in range(1, frames + 1):
        if rng.random() < 0.05:
            i, j = rng.choice(objects, 2, replace=False)
            hyp_of[i], hyp_of[j] = hyp_of[j], hyp_of[i]
        xy = pos + vel * f
        for k in range(objects):
            gt.append([f, k + 1, *xy[k], *size[k], 1, 1, 4])
            if rng.random() > 0.1:
                noise = rng.normal(0, 3.0, 4)
                res.append([f, hyp_of[k], *(xy[k] + noise[:2]), *np.maximum(1, size[k] + noise[2:]), 0.9, 1, -1, -1])
        for _ in range(rng.poisson(1.0)):
            res.append([f, next_id, *rng.uniform(0, 1500, 2), 50, 50, 0.5, 1, -1, -1])
            next_id += 1
    return np.asarray(gt, dtype=float), np.asarray(res, dtype=float)


def reference(seqs, frames: int, metrics: list[str]):
    """The README loop, naively: per-row scans and one iou_matrix call per pair."""
    import motmetrics as mm

    accs = []
    for gt, res in seqs:
        gt_rows, res_rows = gt.tolist(), res.tolist()
        acc = mm.MOTAccumulator(auto_id=False)
        for f in range(1, frames + 1):
            g = [r for r in gt_rows if r[0] == f]
            h = [r for r in res_rows if r[0] == f]
            dist = np.full((len(g), len(h)), np.nan)
            for i, gr in enumerate(g):
                for j, hr in enumerate(h):
                    dist[i, j] = mm.distances.iou_matrix([gr[2:6]], [hr[2:6]], max_iou=0.5)[0, 0]
            acc.update([r[1] for r in g], [r[1] for r in h], dist, frameid=f)
        accs.append(acc)
    return mm.metrics.create().compute_many(accs, metrics=metrics, names=[f"s{i}" for i in range(len(accs))], generate_overall=True)


def motmetrics_path(seqs, frames: int, metrics: list[str]):
    """``mm.utils.compare_to_groundtruth`` per sequence (DataFrames as ``mm.io.loadtxt`` gives)."""
    import motmetrics as mm
    import pandas as pd

    def frame(rows):
        df = pd.DataFrame(rows[:, :6], columns=["FrameId", "Id", "X", "Y", "Width", "Height"])
        df[["FrameId", "Id"]] = df[["FrameId", "Id"]].astype(int)
        return df.set_index(["FrameId", "Id"])

    accs = [mm.utils.compare_to_groundtruth(frame(gt), frame(res), "iou", distth=0.5) for gt, res in seqs]
    return mm.metrics.create().compute_many(accs, metrics=metrics, names=[f"s{i}" for i in range(len(accs))], generate_overall=True)


def ours(seqs, frames: int, metrics: list[str]):
    from nuscmot.evaluation import motmetrics_compat
    from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_sequence

    cfg = EvaluationConfig()
    evs = [evaluate_sequence(f"s{i}", gt, res, frames, cfg) for i, (gt, res) in enumerate(seqs)]
    return motmetrics_compat.summarize([e.accumulator for e in evs], [e.name for e in evs], metrics)


def ours_full(seqs, frames: int):
    from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_sequence, summarize

    cfg = EvaluationConfig()
    return summarize([evaluate_sequence(f"s{i}", gt, res, frames, cfg) for i, (gt, res) in enumerate(seqs)], cfg.iou_threshold)


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sequences", type=int, default=10)
    p.add_argument("--frames", type=int, default=400)
    p.add_argument("--objects", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--naive-sequences", type=int, default=1, help="sequences the naive reference is timed on")
    args = p.parse_args(argv)

    from tabulate import tabulate

    from nuscmot.evaluation.metrics import MM_METRICS

    metrics = list(MM_METRICS)
    rng = np.random.default_rng(args.seed)
    seqs = [synthetic_sequence(rng, args.frames, args.objects) for _ in range(args.sequences)]
    n_gt = sum(len(g) for g, _ in seqs)
    n_res = sum(len(r) for _, r in seqs)
    print(f"{args.sequences} sequences x {args.frames} frames x {args.objects} objects: {n_gt} GT boxes, {n_res} result boxes")

    ours(seqs[:1], args.frames, metrics)  # warm-up: imports
    mine, t_ours = timed(ours, seqs, args.frames, metrics)
    full, t_full = timed(ours_full, seqs, args.frames)
    lib, t_lib = timed(motmetrics_path, seqs, args.frames, metrics)
    k = max(1, min(args.naive_sequences, len(seqs)))
    naive, t_naive_k = timed(reference, seqs[:k], args.frames, metrics)
    t_naive = t_naive_k * len(seqs) / k
    mine_k = ours(seqs[:k], args.frames, metrics)

    def agree(a, b):
        return all(np.allclose(a[c].to_numpy(float), b[c].to_numpy(float), equal_nan=True) for c in metrics)

    same = agree(mine, lib) and agree(mine_k, naive)
    o = full["OVERALL"]
    print(f"overall: IDSW {o['IDSW']} (TrackEval {o['IDSW_trackeval']}), MOTA {o['MOTA']:.4f}, IDF1 {o['IDF1']:.4f}, HOTA {o['HOTA']:.4f}")
    print(f"all methods give identical motmetrics numbers: {same}")
    scaled = f" (timed on {k} of {len(seqs)} sequences, scaled)" if k < len(seqs) else ""
    rows = [
        [f"naive README loop: per-row scans, per-pair iou_matrix{scaled} (reference)", f"{t_naive:.2f}", "1.00"],
        ["motmetrics compare_to_groundtruth (pandas groupby)", f"{t_lib:.2f}", f"{t_naive / t_lib:.2f}"],
        ["ours: numpy grouping, per-frame iou_matrix", f"{t_ours:.2f}", f"{t_naive / t_ours:.2f}"],
        ["ours + TrackEval HOTA/CLEAR (as evaluate_tracking)", f"{t_full:.2f}", f"{t_naive / t_full:.2f}"],
    ]
    print(tabulate(rows, headers=["method", "seconds", "speed-up vs naive reference"], tablefmt="github"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
