"""The ``iou`` motion model (no motion: a track's prediction is its last observed box): the
motion-model protocol as properties, its ego warp, and whole sequences through
``track_sequence`` and the ``run_tracker`` entry point."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuscmot.common.errors import InputError
from nuscmot.common.mot import SeqInfo, read_mot, read_seqmap, write_mot, write_seqinfo, write_seqmap
from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_sequence, summarize
from nuscmot.tracking.config import AssociationConfig
from nuscmot.tracking.ego import rotation_homography, warp_tlwh
from nuscmot.tracking.iou import IoUConfig, IoUMotion
from nuscmot.tracking.kalman import KalmanConfig
from nuscmot.tracking.models import REGISTRY, motion_factory
from nuscmot.tracking.tracker import track_sequence
from support.simulate import simulate_scene

K = np.array([[633.0, 0.0, 408.0], [0.0, 633.0, 246.0], [0.0, 0.0, 1.0]])
box = st.tuples(st.floats(0, 700), st.floats(0, 400), st.floats(2, 120), st.floats(2, 120)).map(list)
boxes = st.lists(box, min_size=1, max_size=6).map(lambda b: np.array(b, dtype=np.float64))


def started(first: np.ndarray) -> IoUMotion:
    m = IoUMotion()
    m.start(np.arange(1, len(first) + 1), first)
    return m


@settings(max_examples=60, deadline=None)
@given(first=boxes, k=st.integers(1, 40))
def test_predict_after_k_frames_is_the_last_box(first, k):
    m = started(first)
    ids = m.ids.copy()
    for _ in range(k):
        pred = m.predict(ids)
        np.testing.assert_array_equal(pred, first)
    pred[:] = -1  # the prediction is a copy: the held box is the model's own
    np.testing.assert_array_equal(m.predict(ids), first)


@settings(max_examples=60, deadline=None)
@given(first=boxes, moves=st.lists(st.floats(-50, 50), min_size=1, max_size=5), gap=st.integers(2, 30))
def test_update_and_reanchor_set_the_held_box(first, moves, gap):
    m = started(first)
    ids = m.ids.copy()
    last = first
    for dx in moves:  # observed every frame
        m.predict(ids)
        last = last + [dx, 0, 0, 0]
        m.update(ids, last)
    np.testing.assert_array_equal(m.predict(ids), last)
    for _ in range(gap - 1):
        m.predict(ids)
    found = last + [7.0, -3.0, 1.0, 2.0]
    m.reanchor(ids, found, np.full(len(ids), gap))
    np.testing.assert_array_equal(m.predict(ids), found)


@settings(max_examples=40, deadline=None)
@given(first=boxes, data=st.data())
def test_remove_forgets_exactly_the_named_tracks(first, data):
    m = started(first)
    drop = data.draw(st.lists(st.sampled_from(list(m.ids)), unique=True))
    kept = [i for i in m.ids if i not in drop]
    m.remove(np.array(drop, dtype=np.int64))
    assert m.ids.tolist() == kept and len(m) == len(kept)
    np.testing.assert_array_equal(m.predict(np.array(kept, dtype=np.int64)), first[np.array(kept, dtype=int) - 1])
    if drop:
        with pytest.raises(KeyError):
            m.predict(np.array(drop[:1]))


@settings(max_examples=40, deadline=None)
@given(first=boxes, data=st.data())
def test_batched_predictions_follow_the_order_of_the_ids_asked(first, data):
    m = started(first)
    order = data.draw(st.permutations(list(m.ids)))
    subset = np.array(order[: data.draw(st.integers(0, len(order)))], dtype=np.int64)
    pred = m.predict(subset)
    assert pred.shape == (len(subset), 4)
    for row, i in zip(pred, subset):
        np.testing.assert_array_equal(row, first[i - 1])


def test_new_tracks_are_appended_after_the_held_ones():
    m = started(np.array([[10.0, 10, 5, 5]]))
    m.start(np.array([4, 9]), np.array([[1.0, 2, 3, 4], [5.0, 6, 7, 8]]))
    m.start(np.array([], dtype=np.int64), np.zeros((0, 4)))
    assert m.ids.tolist() == [1, 4, 9]
    np.testing.assert_array_equal(m.predict(np.array([9, 1])), [[5, 6, 7, 8], [10, 10, 5, 5]])


@settings(max_examples=40, deadline=None)
@given(first=boxes.map(lambda b: b + [50, 50, 0, 0]), yaw=st.floats(-0.1, 0.1), pitch=st.floats(-0.05, 0.05))
def test_warp_moves_the_held_boxes_through_the_homography(first, yaw, pitch):
    m = started(first)
    m.warp(np.eye(3))
    np.testing.assert_allclose(m.predict(m.ids), first, atol=1e-9)
    c, s = np.cos(yaw), np.sin(yaw)
    rot_y = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    cp, sp = np.cos(pitch), np.sin(pitch)
    rot_x = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    h = rotation_homography(K, rot_y @ rot_x)
    m.warp(h)
    np.testing.assert_allclose(m.predict(m.ids), warp_tlwh(first, h), atol=1e-9)


def test_warp_of_an_empty_model_and_a_pure_yaw_shift():
    m = IoUMotion()
    m.warp(rotation_homography(K, np.eye(3)))
    assert len(m) == 0 and m.predict(np.zeros(0, dtype=np.int64)).shape == (0, 4)
    m.start(np.array([1]), np.array([[388.0, 226.0, 40.0, 40.0]]))  # centred on the principal point
    a = np.radians(3)
    m.warp(rotation_homography(K, np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])))
    (x, y, w, h), = m.predict(np.array([1]))
    assert abs((x + w / 2) - 408.0) == pytest.approx(633.0 * np.tan(a), rel=0.01)  # moved, by f tan(angle)
    assert y == pytest.approx(226.0, abs=1.5)


def test_the_registry_builds_it_from_an_empty_slice():
    assert REGISTRY["iou"].config is IoUConfig and not REGISTRY["iou"].learned
    make = motion_factory("iou", {}, None)
    one, two = make(SeqInfo(name="s", length=3, width=800, height=450), None), make(SeqInfo(name="t", length=3, width=800, height=450), None)
    assert isinstance(one, IoUMotion) and one is not two
    with pytest.raises(InputError, match=r"^tracking\.motion\.iou \[tracking\.motion\.iou\]: unknown key\(s\) x$"):
        motion_factory("iou", {"x": 1}, None)


def moving_object(speed: float, gap: range, n_frames: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """One car moving right at ``speed`` px/frame, undetected in the frames of ``gap``: gt, dets."""
    gt, dets = [], []
    for f in range(1, n_frames + 1):
        x = 100.0 + speed * (f - 1)
        gt.append([f, 1, x, 200.0, 60.0, 40.0, 1, 1, 4])
        if f not in gap:
            dets.append([f, -1, x, 200.0, 60.0, 40.0, 0.9, 1, -1, -1])
    return np.array(gt), np.array(dets)


def idsw(motion, gt, dets, n_frames=14) -> int:
    rows = track_sequence(AssociationConfig(), motion, dets, n_frames, 2.0)
    return summarize([evaluate_sequence("s", gt, rows, n_frames, EvaluationConfig())], 0.5)["OVERALL"]["IDSW"]


def test_a_standing_object_survives_a_gap_and_a_moving_one_is_lost():
    """The floor: holding the box re-finds a standing object after a gap of 3 frames, but not one
    that moved past its box meanwhile; Kalman's velocity re-finds both."""
    still_gt, still = moving_object(0.0, range(6, 9))
    moving_gt, moving = moving_object(25.0, range(6, 9))
    assert idsw(IoUMotion(), still_gt, still) == 0
    assert idsw(IoUMotion(), moving_gt, moving) == 1
    assert idsw(KalmanConfig().motion(2.0), moving_gt, moving) == 0


def simulated_metrics(make_motion, association: dict) -> dict:
    """OVERALL metrics of three simulated 20-frame scenes (2 Hz, 10% of detections dropped)."""
    from nuscmot.tracking.gt_detections import DegradeConfig, degrade

    res = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        gt = simulate_scene(rng, 20, 8, respawn=True)
        dets = degrade(gt, DegradeConfig(seed=seed, drop_rate=0.1), rng, img_size=(800, 450), n_frames=20)
        rows = track_sequence(AssociationConfig(**association), make_motion(), dets, 20, 2.0)
        res.append(evaluate_sequence(str(seed), gt, rows, 20, EvaluationConfig()))
    return summarize(res, 0.5)["OVERALL"]


def config_association(repo_root) -> dict:
    import yaml

    return yaml.safe_load((repo_root / "config.yaml").read_text())["tracking"]["association"]


def test_on_simulated_scenes_the_floor_is_below_kalman(repo_root):
    """Objects that move between 2 Hz frames: holding the box tracks them, worse than Kalman
    (measured: IDSW 15 vs 12, MOTA 0.488 vs 0.515, IDF1 0.614 vs 0.641)."""
    assoc = config_association(repo_root)
    floor = simulated_metrics(IoUMotion, assoc)
    kalman = simulated_metrics(lambda: KalmanConfig().motion(2.0), assoc)
    assert floor["MOTA"] > 0.3 and floor["IDF1"] > 0.4, floor  # it does track
    assert floor["IDSW"] > kalman["IDSW"] and floor["IDF1"] < kalman["IDF1"], (floor, kalman)


def test_run_tracker_tracks_simulated_scenes_with_iou(tmp_path, repo_root):
    """The entry point with ``--tracker iou`` and no motion slice: one result file per
    sequence, ids positive, most ground truth found, deterministic."""
    from nuscmot.stages import gt_detections, run_tracker

    mot, seqmap, names = tmp_path / "mot", tmp_path / "seqmap.txt", ["sim-0", "sim-1"]
    rng = np.random.default_rng(3)
    for name in names:
        write_seqinfo(mot / name / "seqinfo.ini", SeqInfo(name=name, length=20, width=800, height=450))
        write_mot(mot / name / "gt" / "gt.txt", simulate_scene(rng, 20, 8, respawn=True), "gt")
    write_seqmap(seqmap, names)
    dets = tmp_path / "dets"
    gt_detections.main(["--params", json.dumps({"seed": 0, "drop_rate": 0.1}), "--mot-dir", str(mot),
                        "--seqmap", str(seqmap), "--out-dir", str(dets)])
    params = json.dumps({"cfg": config_association(repo_root), "motion": {}})
    for run in ("a", "b"):
        run_tracker.main(["--params", params, "--tracker", "iou", "--dets-dir", str(dets), "--mot-dir", str(mot),
                          "--seqmap", str(seqmap), "--out-dir", str(tmp_path / run)])
    assert json.loads((tmp_path / "a" / "settings.json").read_text())["tracker"] == "iou"
    for name in read_seqmap(seqmap):
        rows = read_mot(tmp_path / "a" / f"{name}.txt", "result")
        gt = read_mot(mot / name / "gt" / "gt.txt", "gt")
        assert len(rows) > 0.3 * len(gt) and (rows[:, 1] >= 1).all()
        assert (tmp_path / "a" / f"{name}.txt").read_bytes() == (tmp_path / "b" / f"{name}.txt").read_bytes()
