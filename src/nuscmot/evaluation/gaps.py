"""Detection gaps: frames of a GT track with no matching detection between two matched frames.

Per frame, GT boxes and detections are matched one-to-one (Hungarian on IoU, pairs with
IoU >= ``iou_threshold``). For each GT track, over the frames where the track is annotated,
every unmatched frame strictly between its first and last matched frame is a gap frame; a
maximal run of them is one gap. A tracker has to bridge exactly these frames on motion alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from nuscmot.evaluation.motmetrics_compat import iou
from nuscmot.evaluation.sequences import frame_groups


@dataclass(frozen=True)
class GapStats:
    per_track: dict[int, int]  # GT id -> gap frames
    gap_frames: int  # total over tracks
    gap_runs: int  # number of gaps (maximal runs of gap frames)
    gap_frames_per_track: float  # mean over GT tracks (0 when there are none)
    gt_boxes: int = 0  # evaluated GT boxes of the sequence
    matched_gt_boxes: int = 0  # of them, matched by a detection (IoU >= threshold)

    @property
    def detection_recall(self) -> float | None:
        return self.matched_gt_boxes / self.gt_boxes if self.gt_boxes else None

    def to_json(self) -> dict:
        return {
            "gt_boxes": self.gt_boxes,
            "matched_gt_boxes": self.matched_gt_boxes,
            "detection_recall": self.detection_recall,
            "gap_frames": self.gap_frames,
            "gap_runs": self.gap_runs,
            "gap_frames_per_track": self.gap_frames_per_track,
            "per_track": {str(k): v for k, v in sorted(self.per_track.items())},
        }


def matched_gt(gt_boxes: np.ndarray, det_boxes: np.ndarray, iou_threshold: float, same_class: np.ndarray | None = None) -> np.ndarray:
    """Boolean per GT box: matched to a detection by the per-frame Hungarian on IoU."""
    from scipy.optimize import linear_sum_assignment

    matched = np.zeros(len(gt_boxes), dtype=bool)
    if len(gt_boxes) == 0 or len(det_boxes) == 0:
        return matched
    score = iou(gt_boxes, det_boxes)
    if same_class is not None:
        score = np.where(same_class, score, 0.0)
    score = np.where(score >= iou_threshold - 1e-12, score, 0.0)
    rows, cols = linear_sum_assignment(-score)
    matched[rows[score[rows, cols] > 0]] = True
    return matched


def matched_rows(gt: np.ndarray, dets: np.ndarray, length: int, iou_threshold: float,
                 class_aware: bool = False) -> np.ndarray:
    """Boolean per GT row: matched by a detection of its frame (per-frame Hungarian on IoU)."""
    gt_groups = frame_groups(gt[:, 0], gt[:, 1], length)
    det_groups = frame_groups(dets[:, 0], dets[:, 2], length)
    matched = np.zeros(len(gt), dtype=bool)
    for t in range(length):
        gi, di = gt_groups[t], det_groups[t]
        same = gt[gi, 7, None] == dets[None, di, 7] if class_aware else None
        matched[gi] = matched_gt(gt[gi, 2:6], dets[di, 2:6], iou_threshold, same)
    return matched


def detection_gaps(gt: np.ndarray, dets: np.ndarray, length: int, iou_threshold: float, class_aware: bool = False) -> GapStats:
    """Gap statistics of one sequence. ``gt`` are the evaluated GT rows (already without ignored ones)."""
    matched = matched_rows(gt, dets, length, iou_threshold, class_aware)
    return gap_stats(gt, matched)


def gap_stats(gt: np.ndarray, matched: np.ndarray) -> GapStats:
    """Gap statistics of one sequence's evaluated GT rows from their matched flags."""
    stats = gaps_from_matches(gt[:, 1].astype(np.int64), gt[:, 0].astype(np.int64), matched)
    return dataclasses.replace(stats, gt_boxes=int(len(gt)), matched_gt_boxes=int(matched.sum()))


def gaps_from_matches(track_ids: np.ndarray, frames: np.ndarray, matched: np.ndarray) -> GapStats:
    """Gap statistics from per-row (track id, frame, matched) triples."""
    order = np.lexsort((frames, track_ids))
    ids, hit = track_ids[order], matched[order]
    uniq, starts = np.unique(ids, return_index=True)
    ends = np.append(starts[1:], len(ids))
    per_track: dict[int, int] = {}
    runs = 0
    for tid, s, e in zip(uniq.tolist(), starts, ends):
        h = hit[s:e]
        where = np.flatnonzero(h)
        if len(where) < 2:
            per_track[tid] = 0
            continue
        span = h[where[0] : where[-1] + 1]
        per_track[tid] = int((~span).sum())
        runs += int(np.count_nonzero(span[:-1] & ~span[1:]))
    total = sum(per_track.values())
    mean = total / len(per_track) if per_track else 0.0
    return GapStats(per_track=per_track, gap_frames=total, gap_runs=runs, gap_frames_per_track=mean)
