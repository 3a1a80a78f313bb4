"""Matching functions and the tracker's association corner cases."""

from __future__ import annotations

import numpy as np
import pytest

from nuscmot.common.errors import InputError
from nuscmot.tracking.association import duplicate_pairs, iou_distance, linear_assignment
from nuscmot.tracking.config import AssociationConfig
from nuscmot.tracking.kalman import KalmanMotion
from nuscmot.tracking.tracker import Tracker, max_age_frames, track_sequence


def det(x, y, score=0.9, cls=1, w=20.0, h=40.0):
    return [x, y, w, h, score, cls]


def run(cfg, frames, frame_rate=2.0):
    """frames: list of detection lists (one per frame, 1-based); returns rows per frame."""
    return run_tracker(Tracker(cfg, KalmanMotion(), frame_rate), frames)


def run_tracker(tracker, frames):
    return [tracker.step(f, np.asarray(d, dtype=np.float64).reshape(-1, 6)) for f, d in enumerate(frames, 1)]


def ids(rows):
    return rows[:, 1].astype(int).tolist()


# -- pure functions ---------------------------------------------------------------------------
def test_linear_assignment_empty_shapes():
    for shape in ((0, 0), (0, 3), (2, 0)):
        m, ur, uc = linear_assignment(np.zeros(shape), 0.5)
        assert m.shape == (0, 2) and len(ur) == shape[0] and len(uc) == shape[1]


def test_linear_assignment_gates_and_minimises():
    cost = np.array([[0.1, 0.2], [0.15, 0.9]])
    m, ur, uc = linear_assignment(cost, 0.5)
    assert m.tolist() == [[0, 1], [1, 0]]  # 0.35 beats 0.1 + one pair left unmatched
    m, ur, uc = linear_assignment(cost, 0.12)
    assert m.tolist() == [[0, 0]] and ur.tolist() == [1] and uc.tolist() == [1]
    m, _, _ = linear_assignment(np.full((2, 2), np.inf), 0.8)
    assert len(m) == 0


def test_linear_assignment_prefers_matching_to_leaving_unmatched():
    # matching both at 0.7 (total 1.4) beats one at 0.0 and one pair unmatched (0.0 + 0.8)? No:
    # unmatched costs thresh per (row, col) pair, so 0.0 + 0.8 = 0.8 < 1.4 wins (lapjv semantics).
    cost = np.array([[0.0, 0.7], [0.7, np.inf]])
    m, ur, uc = linear_assignment(cost, 0.8)
    assert m.tolist() == [[0, 0]]


def test_linear_assignment_ties_are_defined():
    # one row, two equal columns -> the lower column (the higher-score detection)
    m, _, _ = linear_assignment(np.array([[0.3, 0.3]]), 0.8)
    assert m.tolist() == [[0, 0]]
    # two equal rows, one column -> the lower row (the older track)
    m, _, _ = linear_assignment(np.array([[0.3], [0.3]]), 0.8)
    assert m.tolist() == [[0, 0]]


def test_iou_distance_class_mask():
    boxes = np.array([[0.0, 0.0, 10.0, 10.0]])
    assert iou_distance(boxes, boxes, np.array([1]), np.array([5]))[0, 0] == np.inf
    assert iou_distance(boxes, boxes, np.array([1]), np.array([1]))[0, 0] == pytest.approx(0.0)


def test_duplicate_pairs_drop_the_younger():
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    drop_a, drop_b = duplicate_pairs(a, np.array([5]), a.copy(), np.array([2]))
    assert not drop_a[0] and drop_b[0]


# -- tracker ----------------------------------------------------------------------------------
def test_no_tracks_and_no_detections():
    out = run(AssociationConfig(), [[], [], []])
    assert all(len(r) == 0 for r in out)


def test_first_frame_confirms_and_low_scores_do_not_start_tracks():
    out = run(AssociationConfig(), [[det(100, 100), det(300, 100, score=0.55), det(500, 100, score=0.3)]])
    assert ids(out[0]) == [1]  # 0.55 < new_track_thresh 0.6, 0.3 is a low-score detection


def test_min_hits_later_births():
    cfg = AssociationConfig(min_hits=3)
    out = run(cfg, [[], [det(100, 100)], [det(101, 100)], [det(102, 100)], [det(103, 100)]])
    assert [len(r) for r in out] == [0, 0, 0, 1, 1]
    assert ids(out[3]) == ids(out[4]) == [1]


def test_tentative_track_dies_on_first_miss():
    out = run(AssociationConfig(), [[], [det(100, 100)], [], [det(100, 100)], [det(100, 100)]])
    assert [len(r) for r in out] == [0, 0, 0, 0, 1]


def test_no_detections_makes_tracks_lost_not_output():
    out = run(AssociationConfig(), [[det(100, 100)], [], [det(100, 100)]])
    assert ids(out[0]) == [1] and len(out[1]) == 0 and ids(out[2]) == [1]


def test_low_score_detection_rescues_a_tracked_track():
    out = run(AssociationConfig(), [[det(100, 100)], [det(102, 100)], [det(104, 100, score=0.3)]])
    assert ids(out[2]) == [1]
    assert out[2][0, 6] == pytest.approx(0.3)


def test_low_score_detection_does_not_revive_a_lost_track():
    out = run(AssociationConfig(), [[det(100, 100)], [], [det(100, 100, score=0.3)]])
    assert len(out[2]) == 0


def test_class_separation():
    frames = [[det(100, 100, cls=1)], [det(100, 100, cls=5)]]
    out = run(AssociationConfig(per_class=True), frames)
    assert len(out[1]) == 0  # the pedestrian does not take the car's id (and is tentative)
    out = run(AssociationConfig(per_class=False), frames)
    assert ids(out[1]) == [1] and out[1][0, 7] == 5


def test_reidentified_within_max_age_and_dead_after():
    gap = [[] for _ in range(5)]
    out = run(AssociationConfig(max_age_s=2.5), [[det(100, 100)], *gap, [det(100, 100)]])  # 5 frames at 2 Hz
    assert ids(out[-1]) == [1]
    gap = [[] for _ in range(6)]
    out = run(AssociationConfig(max_age_s=2.5), [[det(100, 100)], *gap, [det(100, 100)], [det(100, 100)]])
    assert len(out[-2]) == 0 and ids(out[-1]) == [2]


@pytest.mark.parametrize("rate,kept", [(2.0, 5), (12.0, 30)])
def test_max_age_is_seconds_at_the_sequence_frame_rate(rate, kept):
    """The same 2.5 s keeps a lost track 5 frames at 2 Hz and 30 frames at 12 Hz."""
    for gap, same_id in ((kept, True), (kept + 1, False)):
        frames = [[det(100, 100)], *[[] for _ in range(gap)], [det(100, 100)], [det(100, 100)]]
        out = run(AssociationConfig(max_age_s=2.5), frames, frame_rate=rate)
        assert ids(out[-1]) == ([1] if same_id else [2]), (rate, gap)


def test_max_age_frames_rounds_to_the_nearest_frame():
    assert max_age_frames(15.0, 2.0) == 30 and max_age_frames(15.0, 12.0) == 180
    assert max_age_frames(0.25, 2.0) == 1 and max_age_frames(0.2, 2.0) == 0 and max_age_frames(1.3, 2.0) == 3
    with pytest.raises(ValueError, match="frame rate"):
        max_age_frames(15.0, 0.0)


def test_reanchor_switch_changes_the_state_after_a_gap():
    frames = [[det(100 + 10 * k, 100)] for k in range(6)] + [[], []] + [[det(184, 100)]]
    means = []
    for reanchor in (True, False):
        t = Tracker(AssociationConfig(reanchor=reanchor), KalmanMotion(), 2.0)
        out = run_tracker(t, frames)
        assert ids(out[-1]) == [1]
        means.append(t.motion.mean[0].copy())
        assert ids(t.step(10, np.array([det(194, 100)]))) == [1]
    assert not np.allclose(means[0], means[1])


def test_output_ignores_input_order_and_is_deterministic():
    rng = np.random.default_rng(3)
    frames = [[det(50 * i + rng.normal(0, 2), 100 + 3 * f, score=rng.uniform(0.3, 1)) for i in range(8)] for f in range(10)]
    ref = np.concatenate(run(AssociationConfig(), frames))
    shuffled = [list(np.asarray(d)[rng.permutation(len(d))]) for d in frames]
    np.testing.assert_array_equal(np.concatenate(run(AssociationConfig(), shuffled)), ref)


def test_two_equal_candidates_pick_the_higher_score():
    out = run(AssociationConfig(), [[det(100, 100)], [det(95, 100, score=0.7), det(105, 100, score=0.9)]])
    assert out[1][0, 6] == pytest.approx(0.9)


def test_track_sequence_frames_and_empty_sequence():
    dets = np.array([[1, -1, 10, 10, 20, 40, 0.9, 1, -1, -1], [3, -1, 12, 10, 20, 40, 0.9, 1, -1, -1]])
    rows = track_sequence(AssociationConfig(), KalmanMotion(), dets, 4, 2.0)
    assert rows[:, 0].tolist() == [1, 3]
    assert track_sequence(AssociationConfig(), KalmanMotion(), np.zeros((0, 10)), 5, 2.0).shape == (0, 10)


def test_bad_thresholds_are_input_errors():
    with pytest.raises(InputError, match="match_thresh"):
        AssociationConfig(match_thresh=1.5)
    with pytest.raises(InputError, match="track_low_thresh"):
        AssociationConfig(track_low_thresh=0.6, track_high_thresh=0.5)
    with pytest.raises(InputError, match="max_age_s"):
        AssociationConfig(max_age_s=-1.0)
