"""Detection measures of ``finetune_effect`` (:mod:`.finetune_effect`) per source and sequence:
detection recall (GT boxes matched at ``evaluation.iou_threshold``), detection-gap frames and
runs (:mod:`.gaps`), in total and per GT track, and recall in crowded frames (the top
``crowded_fraction`` of all test frames by evaluated GT boxes) and in sparse ones (the bottom
fraction); and the paired change of each between the two sources
(:func:`nuscmot.evaluation.stats.paired_comparison`), absolute and relative.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.evaluation.compare import CompareConfig
from nuscmot.evaluation.finetune_config import FinetuneEffectConfig
from nuscmot.evaluation.gaps import gap_stats, matched_rows
from nuscmot.evaluation.metrics import EvaluationConfig, ignored_gt_mask
from nuscmot.evaluation.runs import Run, SourceRuns, group_runs
from nuscmot.evaluation.sequences import load_detections, load_gt
from nuscmot.evaluation.stats import PairedData, paired_comparison

ROLES = ("baseline", "finetuned")
# detection measure -> (numerator, denominator or None for a count, lower is better)
DETECTION_MEASURES = {
    "recall": ("matched", "gt_boxes", False),
    "gap_frames": ("gap_frames", None, True),
    "gap_runs": ("gap_runs", None, True),
    "gap_frames_per_track": ("gap_frames", "tracks", True),
    "crowded_recall": ("crowded_matched", "crowded_gt", False),
    "sparse_recall": ("sparse_matched", "sparse_gt", False),
    "AP50": ("AP50", "has_gt", False),
    "AR100": ("AR100", "has_gt", False),
}
TRACKING_METRICS = ("IDSW", "MOTA", "IDF1")


@dataclass(frozen=True)
class TestSequence:
    """One test sequence's evaluated GT rows and length."""

    name: str
    rows: np.ndarray
    length: int


def load_sequences(mot_dir: Path, names: Sequence[str], ecfg: EvaluationConfig) -> list[TestSequence]:
    out = []
    for name in names:
        gt = load_gt(mot_dir, name, ecfg.ignore_rules)
        out.append(TestSequence(name, gt.rows[~ignored_gt_mask(gt.rows, ecfg)], gt.length))
    return out


def crowd_masks(seqs: Sequence[TestSequence], fraction: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per sequence, (crowded, sparse) boolean masks over its frames: all test frames ranked by
    their evaluated GT boxes, ties by the frame's relative position in its sequence, then by
    sequence (so tied frames spread over the sequences); the first ``round(fraction * frames)``
    are crowded, the last as many sparse."""
    counts = [np.bincount(s.rows[:, 0].astype(np.int64) - 1, minlength=s.length)[: s.length] for s in seqs]
    flat = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    position = np.concatenate([np.arange(len(c)) / max(len(c), 1) for c in counts]) if counts else flat
    seq_index = np.concatenate([np.full(len(c), i) for i, c in enumerate(counts)]) if counts else flat
    k = int(round(fraction * len(flat)))
    order = np.lexsort((seq_index, position, -flat))
    crowded, sparse = np.zeros(len(flat), bool), np.zeros(len(flat), bool)
    crowded[order[:k]] = True
    sparse[order[len(flat) - k:]] = True
    out, start = {}, 0
    for s, c in zip(seqs, counts):
        out[s.name] = (crowded[start:start + len(c)], sparse[start:start + len(c)])
        start += len(c)
    return out


def sequence_measures(seq: TestSequence, dets: np.ndarray, masks: tuple[np.ndarray, np.ndarray],
                      ecfg: EvaluationConfig) -> dict[str, Any]:
    """Recall, gaps (total, runs, per GT track) and crowded/sparse recall of one sequence."""
    matched = matched_rows(seq.rows, dets, seq.length, ecfg.iou_threshold, ecfg.class_aware)
    gaps = gap_stats(seq.rows, matched)
    frame = seq.rows[:, 0].astype(np.int64) - 1
    in_crowded, in_sparse = masks[0][frame], masks[1][frame]
    return {"gt_boxes": gaps.gt_boxes, "matched": gaps.matched_gt_boxes, "gap_frames": gaps.gap_frames,
            "gap_runs": gaps.gap_runs, "tracks": len(gaps.per_track),
            "crowded_gt": int(in_crowded.sum()), "crowded_matched": int((matched & in_crowded).sum()),
            "sparse_gt": int(in_sparse.sum()), "sparse_matched": int((matched & in_sparse).sum()),
            "crowded_frames": int(masks[0].sum()), "sparse_frames": int(masks[1].sum())}


def ratio(num: float, den: float | None) -> float | None:
    if den is None:
        return num
    return num / den if den else None


def totals(per_seq: Mapping[str, Mapping[str, Any]], coco: Mapping[str, Any]) -> dict[str, Any]:
    """Every detection measure over all sequences (sums, then ratios); AP/AR over all frames."""
    sums = {k: sum(row[k] for row in per_seq.values()) for k in next(iter(per_seq.values()))}
    out = {m: ratio(sums[n], None if d is None else sums[d]) for m, (n, d, _) in DETECTION_MEASURES.items()
           if n in sums and (d is None or d in sums)}
    out.update(AP50=coco["AP50"], AR100=coco["AR100"], AP=coco["AP"], detections=coco["detections"],
               gt_boxes=sums["gt_boxes"], tracks=sums["tracks"], crowded_frames=sums["crowded_frames"],
               sparse_frames=sums["sparse_frames"])
    return out


def paired_change(ft: np.ndarray, bl: np.ndarray, den: np.ndarray | None, lower: bool,
                  ccfg: CompareConfig) -> dict[str, Any]:
    """Fine-tuned minus baseline over sequences: ``ft`` (seeds, sequences) or (sequences,),
    ``bl`` likewise (averaged over its seeds), ``den`` the shared per-sequence denominator (None: a
    count). ``absolute``: the difference of the overall values; ``relative``: their ratio - 1."""
    q = ft.shape[-1]
    num_t, num_b = ft.reshape(1, -1, q).astype(float), bl.reshape(-1, q).mean(axis=0)[None].astype(float)
    d_t = None if den is None else np.broadcast_to(den, num_t.shape).astype(float)
    d_b = None if den is None else np.asarray(den, float).reshape(1, q)
    kw = dict(alpha=ccfg.alpha, samples=ccfg.bootstrap_samples, seed=ccfg.bootstrap_seed)
    absolute = paired_comparison(PairedData(num_t, num_b, d_t, d_b, lower_is_better=lower), **kw)
    rel = paired_comparison(PairedData(num_t, num_b, np.broadcast_to(num_b, num_t.shape).copy(), num_b,
                                       lower_is_better=lower), **kw)
    relative = {k: rel[k] for k in ("estimate", "ci", "level", "p", "n_sequences")}
    return {"absolute": absolute, "relative": relative}


def detection_changes(per_seq: Mapping[str, Mapping[str, Mapping]], names: Sequence[str],
                      ccfg: CompareConfig) -> dict[str, Any]:
    """Every detection measure's paired change."""
    out = {}
    for measure, (num, den, lower) in DETECTION_MEASURES.items():
        ft = np.array([per_seq["finetuned"][n][num] for n in names], float)
        bl = np.array([per_seq["baseline"][n][num] for n in names], float)
        d = None if den is None else np.array([per_seq["baseline"][n][den] for n in names], float)
        out[measure] = paired_change(ft, bl, d, lower, ccfg)
    return out


def pick_sources(runs: Sequence[Run], cfg: FinetuneEffectConfig) -> dict[str, SourceRuns]:
    """The baseline's and the fine-tuned source's runs (one set of detections each: draw null)."""
    if cfg.baseline == cfg.finetuned:
        raise InputError("finetune_effect", f"baseline and finetuned are the same source {cfg.baseline!r}",
                         key="finetuned")
    groups = {g.source: g for g in group_runs(runs)}
    out = {}
    for role in ROLES:
        name = getattr(cfg, role)
        if name not in groups:
            raise InputError("--runs", f"no run of the {role} source {name!r} (finetune_effect.{role}); "
                                       f"runs of: {', '.join(groups) or 'none'}")
        if groups[name].draws != [None]:
            raise InputError("--runs", f"source {name} has drawn runs (draws {groups[name].draws}); "
                                       "finetune_effect compares sources with one set of detections (draw null)")
        dets = {r.dets for t in groups[name].runs.values() for r in t.values()}
        if len(dets) != 1:
            raise InputError("--runs", f"source {name}'s runs name {len(dets)} detection folders, expected one")
        out[role] = groups[name]
    return out


def source_detections(src: SourceRuns, seqs: Sequence[TestSequence], masks, ecfg) -> tuple[dict, dict]:
    """Per sequence, the source's measures and its detection rows."""
    folder = src.dets()[None]
    dets = {s.name: load_detections(folder, s.name, s.length) for s in seqs}
    return {s.name: sequence_measures(s, dets[s.name], masks[s.name], ecfg) for s in seqs}, dets


def add_coco(per_seq: dict[str, dict[str, Any]], coco_seqs: Mapping[str, Mapping[str, Any]]) -> None:
    """Per-sequence AP@0.5 / AR@100 into the measures (``has_gt``: 1 where the sequence has GT)."""
    for name, row in per_seq.items():
        c = coco_seqs[name]
        row.update(AP50=c["AP50"], AR100=c["AR100"], has_gt=int(c["gt_boxes"] > 0))
