"""The switch table: which object switched, from which track id to which, after how long a
gap, and whether the other tracker switched on it too."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_sequence
from nuscmot.evaluation.sequences import GroundTruth
from nuscmot.evaluation.switches import NEAR_FRAMES, other_runs, rows_of, switches_of


def _rows(track: dict[int, int], x: float = 100.0) -> np.ndarray:
    """One box per frame at the same place: ``{frame: id}``; class 5 (pedestrian), visibility 3."""
    return np.array([[f, i, x, 50.0, 20.0, 40.0, 1, 5, 3] for f, i in sorted(track.items())], dtype=np.float64)


def _gt(length: int = 8) -> GroundTruth:
    return GroundTruth("seq", length, _rows({f: 7 for f in range(1, length + 1)}), Path("gt.txt"))


def _switches(track: dict[int, int]):
    gt = _gt()
    return switches_of("seq", evaluate_sequence("seq", gt.rows, _rows(track), gt.length, EvaluationConfig()))


def test_a_switch_after_a_gap_keeps_the_previous_id_and_the_gap():
    # id 10 on frames 1-2, nothing on 3-4, id 20 from frame 5: one switch at 5, last match at 2
    (sw,) = _switches({1: 10, 2: 10, 5: 20, 6: 20, 7: 20, 8: 20})
    assert (sw.frame, sw.gt_id, sw.previous_track_id, sw.new_track_id, sw.frames_since_matched) == (5, 7, 10, 20, 3)


def test_rows_name_class_token_visibility_and_the_other_trackers_switch():
    gt = _gt()
    own = _switches({1: 10, 2: 10, 5: 20, 6: 20, 7: 20, 8: 20})
    near = _switches({f: (1 if f < 5 + NEAR_FRAMES else 2) for f in range(1, 9)})  # switches at frame 7
    far = _switches({f: (1 if f < 8 else 2) for f in range(1, 9)})  # at frame 8: 3 frames away
    (row,) = rows_of(gt, own, near, "trackssm-s0", {7: "tok7"})
    assert row == ["seq", 5, 7, "pedestrian", "tok7", 10, 20, 3, 3, "trackssm-s0", 1]
    assert rows_of(gt, own, far, "trackssm-s0", {})[0][-1] == 0
    assert rows_of(gt, own, None, None, {})[0][-2:] == ["", ""]


def test_the_other_run_is_the_baseline_or_the_reference_seed():
    runs = ["kalman", "trackssm-s0", "trackssm-s1"]
    assert other_runs(runs, "kalman") == {"kalman": "trackssm-s0", "trackssm-s0": "kalman", "trackssm-s1": "kalman"}
