"""Explanatory variables: detection gaps and crowding on crafted inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuscmot.evaluation.crowding import crowding, mean_pairwise_iou
from nuscmot.evaluation.gaps import detection_gaps, gaps_from_matches, matched_gt

from .builders import as_rows, det_row, gt_row


def test_detection_gaps_crafted():
    gt, dets = [], []
    # Track 1, frames 1-8, detected in 1, 2, 5, 6, 8: gap frames 3, 4, 7 (two gaps). In frame 4 a
    # detection is there but too far off (IoU < 0.5), which is still a gap.
    for f in range(1, 9):
        gt.append(gt_row(f, 1, 10, 10))
        if f in (1, 2, 5, 6, 8):
            dets.append(det_row(f, 11, 11))
        if f == 4:
            dets.append(det_row(f, 25, 10))
    # Track 2, frames 1-5, detected only in frame 2: no gap between two matched frames.
    gt += [gt_row(f, 2, 200, 10) for f in range(1, 6)]
    dets.append(det_row(2, 200, 10))
    # Track 3, frames 1-3, undetected in frame 1 (before its first match: not a gap).
    gt += [gt_row(f, 3, 10, 200) for f in range(1, 4)]
    dets += [det_row(f, 10, 200) for f in (2, 3)]
    stats = detection_gaps(as_rows(gt, 9), as_rows(dets, 10), 8, 0.5)
    assert stats.per_track == {1: 3, 2: 0, 3: 0}
    assert (stats.gap_frames, stats.gap_runs, stats.gap_frames_per_track) == (3, 2, 1.0)
    js = stats.to_json()
    assert js["per_track"] == {"1": 3, "2": 0, "3": 0} and js["gap_frames"] == 3


def test_one_detection_matches_one_gt_box():
    gt = as_rows([gt_row(1, 1, 0, 0), gt_row(1, 2, 2, 0)], 9)
    dets = as_rows([det_row(1, 1, 0)], 10)
    assert matched_gt(gt[:, 2:6], dets[:, 2:6], 0.5).sum() == 1


def test_class_aware_gaps():
    gt = as_rows([gt_row(f, 1, 0, 0, cls=1) for f in (1, 2, 3)], 9)
    dets = as_rows([det_row(1, 0, 0, cls=1), det_row(2, 0, 0, cls=4), det_row(3, 0, 0, cls=1)], 10)
    assert detection_gaps(gt, dets, 3, 0.5).gap_frames == 0
    assert detection_gaps(gt, dets, 3, 0.5, class_aware=True).gap_frames == 1


def test_no_gt_no_gaps():
    stats = detection_gaps(np.zeros((0, 9)), np.zeros((0, 10)), 5, 0.5)
    assert (stats.gap_frames, stats.gap_frames_per_track, stats.per_track) == (0, 0.0, {})


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 15), st.booleans()), max_size=40, unique_by=lambda r: r[:2]))
def test_gaps_from_matches_equals_a_per_track_loop(rows):
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    frames = np.array([r[1] for r in rows], dtype=np.int64)
    hit = np.array([r[2] for r in rows], dtype=bool)
    stats = gaps_from_matches(ids, frames, hit)
    expected, runs = {}, 0
    for tid in sorted(set(ids.tolist())):
        seq = [h for _, h in sorted((f, h) for i, f, h in rows if i == tid)]
        matched = [k for k, h in enumerate(seq) if h]
        span = seq[matched[0] : matched[-1] + 1] if len(matched) >= 2 else []
        expected[tid] = sum(1 for h in span if not h)
        runs += sum(1 for a, b in zip(span, span[1:]) if a and not b)
    assert stats.per_track == expected
    assert stats.gap_frames == sum(expected.values()) and stats.gap_runs == runs


def test_crowding_crafted():
    gt = as_rows(
        [gt_row(1, 1, 0, 0, 10, 10), gt_row(1, 2, 5, 0, 10, 10),
         gt_row(2, 1, 0, 0, 10, 10), gt_row(2, 2, 5, 0, 10, 10), gt_row(2, 3, 100, 100, 10, 10),
         gt_row(3, 1, 0, 0, 10, 10)],
        9,
    )  # fmt: skip
    c = crowding(gt, 4)
    assert c.objects_per_frame.tolist() == [2, 3, 1, 0]
    assert (c.mean_objects, c.max_objects) == (1.5, 3)
    assert c.mean_pairwise_iou == pytest.approx((1 / 3 + 1 / 9) / 2)
    assert set(c.to_json()) == {"mean_objects_per_frame", "max_objects_per_frame", "mean_pairwise_iou"}


def test_crowding_without_pairs():
    c = crowding(as_rows([gt_row(1, 1, 0, 0)], 9), 2)
    assert (c.mean_objects, c.max_objects, c.mean_pairwise_iou) == (0.5, 1, 0.0)
    assert mean_pairwise_iou(np.zeros((1, 4))) is None
