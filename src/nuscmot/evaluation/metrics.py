"""CLEAR-MOT and ID metrics with motmetrics, HOTA with TrackEval, per sequence and overall.

Per sequence and frame: one vectorised IoU matrix (motmetrics' ``iou_matrix``), the
MOTChallenge-style ignore step, then ``MOTAccumulator.update`` with distances ``1 - IoU``
gated at ``1 - iou_threshold``. Rows are grouped by frame with one numpy sort per sequence.

Ignoring follows the MOTChallenge / KITTI preprocessing (TrackEval's): distractor rows
(``distractor_classes``, visibility below ``min_visibility``) remove the hypotheses Hungarian-
matched to them; the other zero-marked rows are ignore regions (crowd, KITTI DontCare) that
remove unmatched hypotheses lying more than ``region_ioa`` inside them; see
:mod:`nuscmot.evaluation.ignore`. Neither ignored rows nor removed hypotheses count as FP, FN
or match.

IDSW convention (the headline ``IDSW`` is motmetrics'): to decide which hypothesis continues an
object, motmetrics first re-establishes the object's most recent match from ANY past frame,
whereas the MOTChallenge devkit and TrackEval only favour matches from the PREVIOUS frame
(motmetrics issue #132, TrackEval issue #143). After a gap the two can pick different
hypotheses, so the counts can differ by a few switches, in either direction (an object that
reappears beside both its old and a better-fitting new hypothesis: motmetrics keeps the old
one, 0 switches; TrackEval takes the new one, 1 switch). TrackEval's count on the same data is
reported beside it as ``IDSW_trackeval``.

Other conventions: ``MOTP`` is the mean IoU of matched pairs (MOTChallenge / TrackEval, higher
is better), i.e. ``1 - motmetrics' motp``. ``MT`` is motmetrics' ``>= 80 %`` (TrackEval:
``> 80 %``). ``Frag`` is motmetrics' count of tracked -> missed transitions within a track's
tracked span; TrackEval counts restarts of tracking instead, which adds one after frames where
the GT box is absent or ignored, and misses an interruption by a frame without any prediction.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.fields import check_fields, limited
from nuscmot.evaluation import motmetrics_compat, trackeval_metrics
from nuscmot.evaluation.ignore import IgnoreRules, removed_hypotheses
from nuscmot.evaluation.sequences import frame_groups

log = logging.getLogger(__name__)

IDSW_CONVENTION = (
    "IDSW is motmetrics' count: when matching, an object first keeps its most recent match from any "
    "past frame, while the MOTChallenge devkit and TrackEval only favour the previous frame's matches "
    "(motmetrics issue #132, TrackEval issue #143), so after a gap the two counts can differ by a few "
    "switches; TrackEval's count on the same data is given as IDSW_trackeval."
)

# motmetrics metric -> our column name.
MM_METRICS = {
    "num_switches": "IDSW",
    "mota": "MOTA",
    "motp": "MOTP",
    "idf1": "IDF1",
    "idp": "IDP",
    "idr": "IDR",
    "num_false_positives": "FP",
    "num_misses": "FN",
    "num_fragmentations": "Frag",
    "mostly_tracked": "MT",
    "partially_tracked": "PT",
    "mostly_lost": "ML",
    "precision": "precision",
    "recall": "recall",
    "num_objects": "num_objects",
    "num_predictions": "num_predictions",
    "num_unique_objects": "num_unique_objects",
    "num_matches": "num_matches",
    "num_frames": "num_frames",
}

COLUMNS = [
    "sequence",
    "IDSW", "IDSW_trackeval", "MOTA", "MOTP", "IDF1", "IDP", "IDR", "HOTA", "DetA", "AssA", "LocA",
    "FP", "FN", "Frag", "MT", "PT", "ML", "precision", "recall",
    "num_objects", "num_predictions", "num_unique_objects", "num_matches", "num_frames",
    "ignored_gt", "ignored_predictions",
]  # fmt: skip
INT_COLUMNS = {
    "IDSW", "IDSW_trackeval", "FP", "FN", "Frag", "MT", "PT", "ML", "num_objects", "num_predictions",
    "num_unique_objects", "num_matches", "num_frames", "ignored_gt", "ignored_predictions",
}  # fmt: skip

COLUMN_HELP = {
    "IDSW": "identity switches (motmetrics convention, see idsw_convention)",
    "IDSW_trackeval": "identity switches counted by TrackEval CLEAR (MOTChallenge devkit convention)",
    "MOTA": "1 - (FN + FP + IDSW) / num_objects",
    "MOTP": "mean IoU of matched pairs (1 - motmetrics' motp)",
    "IDF1": "ID F1 (global ID assignment)",
    "IDP": "ID precision",
    "IDR": "ID recall",
    "HOTA": "TrackEval HOTA, mean over alpha 0.05..0.95",
    "DetA": "TrackEval detection accuracy, mean over alpha",
    "AssA": "TrackEval association accuracy, mean over alpha",
    "LocA": "TrackEval localisation accuracy, mean over alpha",
    "FP": "false positives",
    "FN": "misses",
    "Frag": "fragmentations (tracked -> missed transitions)",
    "MT": "GT tracks matched in >= 80% of their frames",
    "PT": "GT tracks matched in 20-80% of their frames",
    "ML": "GT tracks matched in < 20% of their frames",
    "precision": "matches / predictions",
    "recall": "matches / GT boxes",
    "num_objects": "GT boxes evaluated (after ignoring)",
    "num_predictions": "result boxes evaluated (after ignoring)",
    "num_unique_objects": "GT tracks",
    "num_matches": "matched GT boxes that were not switches",
    "num_frames": "frames (seqLength)",
    "ignored_gt": "GT boxes ignored (conf 0, a distractor class or visibility < min_visibility)",
    "ignored_predictions": "result boxes removed with an ignored GT box (matched to a distractor, or inside an ignore region)",
}


@dataclass(frozen=True)
class EvaluationConfig:
    """The ``evaluation`` config slice."""

    # a match needs IoU >= this (motmetrics max distance 1 - IoU)
    iou_threshold: float = limited(0.5, exclusiveMinimum=0, maximum=1)
    # GT boxes below this nuScenes visibility level are ignored (0 = none)
    min_visibility: int = limited(0, minimum=0, maximum=4)
    # IoU for a hypothesis to be Hungarian-matched to (and removed with) a distractor GT row
    distractor_iou: float = limited(0.5, exclusiveMinimum=0, maximum=1)
    # GT rows of these classes (class column) are distractors: ignored, whatever their id
    distractor_classes: tuple[int, ...] = limited((), uniqueItems=True, items={"minimum": 0})
    # an unmatched hypothesis is removed when more than this share of its area lies inside an
    # ignore region (a zero-marked non-distractor GT row); 1 = no ignore regions
    region_ioa: float = limited(0.5, minimum=0, maximum=1)
    class_aware: bool = False  # only boxes of the same class can match

    def __post_init__(self) -> None:
        if isinstance(self.distractor_classes, list):  # as YAML / JSON give it
            object.__setattr__(self, "distractor_classes", tuple(self.distractor_classes))
        check_fields(self, "evaluation")

    @property
    def ignore_rules(self) -> IgnoreRules:
        return IgnoreRules(
            distractor_classes=self.distractor_classes,
            min_visibility=self.min_visibility,
            distractor_iou=self.distractor_iou,
            region_ioa=self.region_ioa,
        )


@dataclass
class SequenceEvaluation:
    """What one sequence produced: the filled accumulator and TrackEval's data dict."""

    name: str
    accumulator: Any
    trackeval_data: dict
    ignored_gt: int = 0
    ignored_predictions: int = 0


def ignored_gt_mask(gt: np.ndarray, cfg: EvaluationConfig) -> np.ndarray:
    """GT rows that are not evaluated (see :class:`nuscmot.evaluation.ignore.IgnoreRules`)."""
    return cfg.ignore_rules.ignored(gt)


def evaluate_sequence(name: str, gt: np.ndarray, hyp: np.ndarray, length: int, cfg: EvaluationConfig) -> SequenceEvaluation:
    """Fill a ``MOTAccumulator`` (frames ``1..length``) and build TrackEval's data for one sequence."""
    import motmetrics as mm

    max_dist = 1.0 - cfg.iou_threshold
    acc = mm.MOTAccumulator(auto_id=False)
    gt_groups = frame_groups(gt[:, 0], gt[:, 1], length)
    hyp_groups = frame_groups(hyp[:, 0], hyp[:, 1], length)
    rules = cfg.ignore_rules
    ignore_all = rules.ignored(gt)
    te_gt, te_hyp, te_sim = [], [], []
    ignored_gt = ignored_hyp = 0
    for t in range(length):
        g = gt[gt_groups[t]]
        h = hyp[hyp_groups[t]]
        dist = motmetrics_compat.iou_distances(g[:, 2:6], h[:, 2:6])
        ignore = ignore_all[gt_groups[t]]
        if ignore.any():
            keep_h = ~removed_hypotheses(g, h, 1.0 - dist, rules)
            ignored_gt += int(ignore.sum())
            ignored_hyp += int((~keep_h).sum())
            g, h, dist = g[~ignore], h[keep_h], dist[~ignore][:, keep_h]
        if cfg.class_aware:
            dist = np.where(g[:, 7, None] == h[None, :, 7], dist, 1.0)
        gt_ids = g[:, 1].astype(np.int64)
        hyp_ids = h[:, 1].astype(np.int64)
        acc.update(gt_ids, hyp_ids, np.where(dist > max_dist, np.nan, dist), frameid=t + 1)
        te_gt.append(gt_ids)
        te_hyp.append(hyp_ids)
        te_sim.append(1.0 - dist)
    return SequenceEvaluation(
        name=name,
        accumulator=acc,
        trackeval_data=trackeval_metrics.build_data(te_gt, te_hyp, te_sim),
        ignored_gt=ignored_gt,
        ignored_predictions=ignored_hyp,
    )


def switch_events(evaluation: SequenceEvaluation) -> list[tuple[int, int, int]]:
    """``(frame, gt_id, new_hyp_id)`` of every motmetrics SWITCH event, in frame order."""
    ev = evaluation.accumulator.mot_events
    sw = ev[ev["Type"] == "SWITCH"]
    frames = sw.index.get_level_values("FrameId").to_numpy()
    return [(int(f), int(o), int(h)) for f, o, h in zip(frames, sw["OId"].to_numpy(), sw["HId"].to_numpy())]


def summarize(evaluations: Iterable[SequenceEvaluation], iou_threshold: float) -> dict[str, dict[str, Any]]:
    """One row (dict keyed by :data:`COLUMNS`) per sequence, plus ``"OVERALL"`` (last)."""
    evaluations = list(evaluations)
    if not evaluations:
        raise ValueError("no sequences to summarize")
    names = [e.name for e in evaluations]
    mm_table = motmetrics_compat.summarize([e.accumulator for e in evaluations], names, list(MM_METRICS))
    te_table = trackeval_metrics.summarize({e.name: e.trackeval_data for e in evaluations}, iou_threshold)
    extra = {e.name: {"ignored_gt": e.ignored_gt, "ignored_predictions": e.ignored_predictions} for e in evaluations}
    extra["OVERALL"] = {k: sum(v[k] for v in extra.values()) for k in ("ignored_gt", "ignored_predictions")}
    out: dict[str, dict[str, Any]] = {}
    for name in names + ["OVERALL"]:
        mm_row = mm_table.loc[name]
        row: dict[str, Any] = {"sequence": name}
        for mm_name, col in MM_METRICS.items():
            row[col] = mm_row[mm_name]
        row["MOTP"] = 1.0 - row["MOTP"]
        row.update(te_table[name])
        row.update(extra[name])
        out[name] = {col: clean_number(row[col], col in INT_COLUMNS) if col != "sequence" else name for col in COLUMNS}
    return out


def clean_number(value: Any, integer: bool) -> int | float | None:
    """Plain Python number for JSON/CSV; NaN/inf (e.g. MOTA with no GT) become None."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return int(round(value)) if integer else value


def evaluate_many(
    names: list[str], load: Callable[[str], tuple[np.ndarray, np.ndarray, int]], cfg: EvaluationConfig
) -> tuple[dict[str, dict[str, Any]], list[SequenceEvaluation]]:
    """Evaluate sequences given by ``load(name) -> (gt_rows, hyp_rows, length)``; see :func:`summarize`."""
    from tqdm import tqdm

    evaluations = []
    for name in tqdm(names, desc="evaluate", unit="seq", disable=None):
        gt, hyp, length = load(name)
        evaluations.append(evaluate_sequence(name, gt, hyp, length, cfg))
    return summarize(evaluations, cfg.iou_threshold), evaluations
