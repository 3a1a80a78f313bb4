"""Compare trackers: IDSW delta/ratio against the baseline, and what explains the delta.

Reads the per-run metrics JSON written by ``evaluate_tracker``, checks whether a verdict over
the detections means anything, and correlates each tracker's per-sequence IDSW delta with the
explanatory variables (detection gaps, crowding). The Markdown is :mod:`nuscmot.evaluation.report`'s.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.fields import AT_LEAST_0, UNIT, check_fields, limited
from nuscmot.common.io import read_json
from nuscmot.evaluation.metrics import IDSW_CONVENTION

_FROM_METRICS = ["IDSW", "MOTA", "IDF1", "HOTA", "FP", "FN", "Frag", "IDSW_trackeval"]

# name -> (where in the per-sequence analysis, key, axis label)
VARIABLES = {
    "gap_frames": ("gaps", "gap_frames", "detection-gap frames in the sequence"),
    "gap_frames_per_track": ("gaps", "gap_frames_per_track", "detection-gap frames per GT track"),
    "mean_objects_per_frame": ("crowding", "mean_objects_per_frame", "mean GT objects per frame"),
    "max_objects_per_frame": ("crowding", "max_objects_per_frame", "max GT objects in a frame"),
    "mean_pairwise_iou": ("crowding", "mean_pairwise_iou", "mean pairwise IoU between GT boxes"),
}
SHOWN_ASSOCIATION = ("match_thresh", "max_age_s", "track_high_thresh", "ego_compensation")
SHOWN_MOTION = ("std_weight_velocity", "rollout_horizon", "rollout_fallback", "head")
GAP_VARIABLE = "gap_frames"  # plotted against the delta
CROWDING_VARIABLE = "mean_objects_per_frame"


SOURCES = {  # section titles of the usual source names (any other is titled by its name)
    "detector": "the detector's output (`infer`)",
    "finetuned": "the fine-tuned detector (`train`, then `infer`)",
    "pretrained": "the pretrained detector, not fine-tuned (`infer`)",
    "gt": "GT-derived detections (`gt_detections`: dropped boxes, jitter, false positives)",
}


@dataclass(frozen=True)
class CompareConfig:
    """The ``compare`` config slice."""

    baseline: str = limited("kalman", minLength=1)  # tracker every other tracker is compared with
    floor: str = limited("iou", pattern="^([a-z][a-z0-9_]*)?$")  # the motion-free model: what each model adds ("" none)
    use_tuned: bool = True  # track the test scenes with each model's best settings on the tuning split
    ego_ablation: bool = True  # also track with ego_compensation flipped: an on/off table
    min_detection_recall: float = limited(0.2, **UNIT)  # below: the detections miss too much for a verdict
    min_baseline_idsw: int = limited(10, **AT_LEAST_0)  # below: too few switches to compare
    min_correlation_sequences: int = limited(8, **AT_LEAST_0)  # below: the correlation table is marked too small
    alpha: float = limited(0.05, exclusiveMinimum=0, exclusiveMaximum=1)  # significance level; intervals at 1 - alpha
    bootstrap_samples: int = limited(4000, minimum=100)  # resamples of the paired bootstrap
    bootstrap_seed: int = limited(0, **AT_LEAST_0)  # its random seed: the statistics are deterministic
    min_class_idsw: int = limited(10, **AT_LEAST_0)  # a class gets paired statistics from this many baseline switches

    def __post_init__(self) -> None:
        check_fields(self, "compare")


def detection_recall(explanatory: Mapping[str, Mapping[str, Mapping]], names: Sequence[str]) -> float | None:
    """Share of the evaluated GT boxes of all sequences that a detection matches (None: no GT)."""
    gt = sum(explanatory[s]["gaps"].get("gt_boxes", 0) for s in names)
    hit = sum(explanatory[s]["gaps"].get("matched_gt_boxes", 0) for s in names)
    return hit / gt if gt else None


def validity(recall: float | None, baseline_idsw: int, baseline: str, cfg: CompareConfig) -> dict[str, Any]:
    """Whether a verdict over these detections means anything; the reason, with the figures."""
    problems = []
    if recall is None:
        problems.append("the test sequences have no GT boxes to evaluate")
    elif recall < cfg.min_detection_recall:
        problems.append(f"the detections match {recall:.1%} of the GT boxes (< {cfg.min_detection_recall:.0%})")
    if baseline_idsw < cfg.min_baseline_idsw:
        problems.append(f"{baseline} has {baseline_idsw} identity switches (< {cfg.min_baseline_idsw})")
    return {"meaningful": not problems, "reason": "; ".join(problems) or None,
            "detection_recall": recall, "baseline_idsw": int(baseline_idsw)}


def load_metrics(path: str | Path, tracker: str, names: Sequence[str]) -> dict[str, Any]:
    """A metrics JSON from ``evaluate_tracker``, checked against the tracker and the seqmap."""
    path = Path(path)
    data = read_json(path, "metrics JSON", missing="missing metrics file")
    if not isinstance(data, dict) or not isinstance(data.get("sequences"), dict) or not isinstance(data.get("overall"), dict):
        raise InputError(path, "not a metrics JSON from evaluate_tracker (needs 'sequences' and 'overall')")
    if data.get("tracker") != tracker:
        raise InputError(
            path, f"holds metrics of tracker {data.get('tracker')!r}, expected {tracker!r} (the run's tracker)"
        )
    missing = [n for n in names if n not in data["sequences"]]
    if missing:
        raise InputError(path, f"no metrics for sequence(s) {', '.join(missing[:5])} of the seqmap")
    for where, row in [("overall", data["overall"])] + [(n, data["sequences"][n]) for n in names]:
        for col in _FROM_METRICS:
            if col not in row:
                raise InputError(path, f"missing metric {col}", key=f"{where}.{col}")
    return data


def delta_ratio(idsw: int, base: int) -> tuple[int, float | None]:
    """IDSW delta and ratio against the baseline; the ratio is None when the baseline has 0."""
    return idsw - base, (idsw / base if base > 0 else None)


CORRELATION_INTERVAL = "Fisher z (Spearman: with Fieller's 1.06 variance factor), over sequences"


def correlation(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> dict[str, Any]:
    """Pearson and Spearman r with p-values and ``level`` intervals (:data:`CORRELATION_INTERVAL`,
    None below 4 sequences); nulls and a ``reason`` where they are undefined."""
    from scipy import stats

    from nuscmot.evaluation.stats import fisher_interval

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    out: dict[str, Any] = {
        "n": int(len(x)),
        "pearson": {"r": None, "p": None, "ci": [None, None]},
        "spearman": {"r": None, "p": None, "ci": [None, None]},
        "level": level,
        "reason": None,
    }
    if len(x) < 3:
        out["reason"] = f"fewer than 3 sequences ({len(x)})"
    elif np.ptp(x) == 0:
        out["reason"] = "explanatory variable is constant over the sequences"
    elif np.ptp(y) == 0:
        out["reason"] = "IDSW delta is constant over the sequences"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for key, res in (("pearson", stats.pearsonr(x, y)), ("spearman", stats.spearmanr(x, y))):
                r, p = float(res[0]), float(res[1])
                if math.isfinite(r):
                    ci = fisher_interval(r, len(x), level, spearman=key == "spearman")
                    out[key] = {"r": r, "p": p if math.isfinite(p) else None, "ci": ci}
        if out["pearson"]["r"] is None or out["spearman"]["r"] is None:
            out["reason"] = "correlation undefined for these values"
    return out


def analysis(
    metrics: Mapping[str, Mapping],
    trackers: Sequence[str],
    baseline: str,
    names: Sequence[str],
    explanatory: Mapping[str, Mapping[str, Mapping]],
    cfg: CompareConfig | None = None,
    delta_runs: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
) -> dict[str, Any]:
    """Per-sequence IDSW, delta and explanatory variables; correlations per compared tracker;
    whether the verdict is meaningful (:func:`validity`).

    ``metrics[t]``: a tracker's metrics (with several runs, their means over draws and seeds);
    ``explanatory[seq]`` holds ``{"gaps": {...}, "crowding": {...}}`` (see :data:`VARIABLES`);
    ``delta_runs[t][seq]``: each run's IDSW delta, by run label (kept for the spread).
    """
    cfg = cfg or CompareConfig(baseline=baseline)
    compared = [t for t in trackers if t != baseline]
    sequences = {}
    for seq in names:
        idsw = {t: metrics[t]["sequences"][seq]["IDSW"] for t in trackers}
        sequences[seq] = {
            "idsw": idsw,
            "idsw_delta": {t: idsw[t] - idsw[baseline] for t in compared},
            "idsw_delta_runs": {t: dict((delta_runs or {}).get(t, {}).get(seq, {})) for t in compared},
            **{k: dict(v) for k, v in explanatory[seq].items()},
        }
    correlations = {
        t: {
            var: correlation(
                [sequences[s][group][key] for s in names], [sequences[s]["idsw_delta"][t] for s in names],
                1 - cfg.alpha,
            )
            for var, (group, key, _) in VARIABLES.items()
        }
        for t in compared
    }
    too_small = len(names) < cfg.min_correlation_sequences
    for per_var in correlations.values():
        for c in per_var.values():
            c["too_small"] = too_small
    return {
        **validity(detection_recall(explanatory, names), round(metrics[baseline]["overall"]["IDSW"]), baseline, cfg),
        "baseline": baseline,
        "trackers": list(trackers),
        "compared": compared,
        "min_correlation_sequences": cfg.min_correlation_sequences,
        "delta_definition": "IDSW(tracker) - IDSW(baseline of the same draw), per sequence, mean over draws and seeds",
        "correlation_interval": CORRELATION_INTERVAL,
        "idsw_convention": IDSW_CONVENTION,
        "variables": {var: label for var, (_, _, label) in VARIABLES.items()},
        "sequences": sequences,
        "correlations": correlations,
    }


def worst_sequence(result: Mapping[str, Any], names: Sequence[str]) -> tuple[str, str | None]:
    """(sequence, tracker) with the largest |IDSW delta| (first compared tracker; seqmap order breaks ties).

    With no tracker to compare, the sequence with the most baseline switches.
    """
    seqs = result["sequences"]
    if result["compared"]:
        t = result["compared"][0]
        return max(names, key=lambda s: (abs(seqs[s]["idsw_delta"][t]), -names.index(s))), t
    b = result["baseline"]
    return max(names, key=lambda s: (seqs[s]["idsw"][b], -names.index(s))), None
