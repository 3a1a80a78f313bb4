"""``dataset.kind: mot``: the layout check at load, GT with KITTI/MOTChallenge ignore rows, and
TrackSSM's trajectories from the training GT (tests/fixtures/mot_tiny)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from nuscmot.common.config import from_dict
from nuscmot.common.dataset import DatasetConfig, mot_layout
from nuscmot.common.errors import InputError
from nuscmot.data.mot_trajectories import mot_trajectory_table
from nuscmot.evaluation.sequences import load_gt
from nuscmot.stages import mot_trajectories, sweep_block
from nuscmot.tracking.trackssm.data import frame_rate, image_sizes, read_trajectories


@pytest.fixture()
def fixture(repo_root):
    return repo_root / "tests" / "fixtures" / "mot_tiny"


def dataset(fixture, **mot) -> DatasetConfig:
    seqmaps = {k: str(fixture / "seqmaps" / f"{k.split('_')[0]}.txt") for k in ("test_seqmap", "tune_seqmap")}
    return from_dict(DatasetConfig, {"kind": "mot", "mot": {"root": str(fixture), **seqmaps, **mot}}, where="dataset")


def test_layout_reads_the_seqmaps_and_finds_no_poses(fixture, tmp_path):
    layout = mot_layout(dataset(fixture, train_seqmap=str(fixture / "seqmaps" / "train.txt")))
    assert layout.test == ("test-01", "test-02") and layout.tune == ("tune-01", "tune-02")
    assert layout.train == ("train-01",) and not layout.has_poses()
    copy = tmp_path / "mot"
    shutil.copytree(fixture, copy)
    moved = mot_layout(dataset(copy, train_seqmap=str(copy / "seqmaps" / "train.txt")))
    for name in moved.sequences[1:]:
        (copy / name / "cam_pose.json").write_text("{}")
    assert not moved.has_poses()  # one sequence without poses: no ego-motion compensation
    (copy / moved.sequences[0] / "cam_pose.json").write_text("{}")
    assert moved.has_poses()


def test_layout_errors_name_the_key_and_path(fixture, tmp_path):
    with pytest.raises(InputError, match=r"\[dataset.mot.test_seqmap\]: no such seqmap"):
        mot_layout(dataset(fixture, test_seqmap=str(tmp_path / "x.txt")))
    (tmp_path / "t.txt").write_text("name\ntrain-01\ntest-01\n")
    with pytest.raises(InputError, match=r"t.txt \[dataset.mot.train_seqmap\]: lists test sequence\(s\) test-01"):
        mot_layout(dataset(fixture, train_seqmap=str(tmp_path / "t.txt")))
    with pytest.raises(InputError, match=r"dataset.mot \[root\]: a mot dataset needs root"):
        mot_layout(from_dict(DatasetConfig, {"kind": "mot"}, where="dataset"))


def test_ignore_rows_without_identity_are_read_and_others_refused(fixture, tmp_path):
    gt = load_gt(fixture, "test-01")
    dontcare = gt.rows[(gt.rows[:, 1] == -1)]
    assert len(dontcare) >= 3 and (dontcare[:, 6] == 0).all()  # several per frame, all conf 0
    bad = tmp_path / "seq"
    shutil.copytree(fixture / "test-01", bad)
    (bad / "gt" / "gt.txt").write_text("1,-1,1,1,5,5,1,1,1\n")
    with pytest.raises(InputError, match=r"gt.txt:1: a GT row without an identity \(id -1\) must be an ignore row"):
        load_gt(tmp_path, "seq")


def test_trajectories_keep_identities_and_time(fixture, tmp_path):
    table = mot_trajectory_table(fixture, ["train-01"]).to_pandas()
    gt = load_gt(fixture, "train-01").rows
    kept = gt[(gt[:, 6] != 0) & (gt[:, 1] >= 0)]
    assert len(table) == len(kept) and set(table["instance_token"]) == {str(int(i)) for i in np.unique(kept[:, 1])}
    path = tmp_path / "train.parquet"
    mot_trajectories.main(["--params", "{}", "--mot-dir", str(fixture), "--train-seqmap",
                           str(fixture / "seqmaps" / "train.txt"), "--val-seqmap", str(fixture / "seqmaps" / "tune.txt"),
                           "--test-seqmap", str(fixture / "seqmaps" / "test.txt"), "--traj-train", str(path),
                           "--traj-val", str(tmp_path / "val.parquet")])
    df = read_trajectories(path)  # TrackSSM's own reader: schema, boxes, no duplicates
    assert frame_rate(df, path) == pytest.approx(10.0) and image_sizes(df) == ((1242, 375),)
    with pytest.raises(InputError, match="TrackSSM never trains on a test sequence"):
        mot_trajectories.main(["--params", "{}", "--mot-dir", str(fixture), "--train-seqmap",
                               str(fixture / "seqmaps" / "test.txt"), "--val-seqmap",
                               str(fixture / "seqmaps" / "tune.txt"), "--test-seqmap",
                               str(fixture / "seqmaps" / "test.txt"), "--traj-train", str(tmp_path / "a.parquet"),
                               "--traj-val", str(tmp_path / "b.parquet")])


def test_sweep_block_refuses_a_test_sequence_without_splits(fixture, tmp_path):
    (tmp_path / "tune.txt").write_text("name\ntune-01\ntest-02\n")
    params = {"cells": [{"name": "match_thresh~0.8", "values": {"match_thresh": 0.8}}]}
    with pytest.raises(InputError, match=r"lists test sequence\(s\) test-02 \(in .*test.txt\): tuning must never read"):
        sweep_block.main(["--params", json.dumps(params), "--tracker", "kalman", "--source", "public",
                          "--dets-dir", str(tmp_path), "--mot-dir", str(fixture), "--seqmap", str(tmp_path / "tune.txt"),
                          "--test-seqmap", str(fixture / "seqmaps" / "test.txt"), "--out", str(tmp_path / "b.json")])
    assert not (tmp_path / "b.json").exists()


def test_without_poses_every_ego_axis_is_dropped_with_a_note():
    from nuscmot.sweep.plan import without_ego_axes

    cfg = {"sweep": {"grid": {"match_thresh": [0.8], "ego_compensation": [False, True]}},
           "gap_ablation": {"ego_compensation": [False, True]}, "tracking": {"association": {"ego_compensation": True}}}
    out, notes = without_ego_axes(cfg)
    assert out["sweep"]["grid"] == {"match_thresh": [0.8]} and out["gap_ablation"]["ego_compensation"] == [False]
    assert out["compare"]["ego_ablation"] is False and len(notes) == 3
    assert out["tracking"]["association"]["ego_compensation"] is True  # explicit: tracking names the missing file
    assert cfg["sweep"]["grid"]["ego_compensation"] == [False, True]  # the config given is left alone
    assert without_ego_axes({"compare": {"ego_ablation": False}, "sweep": {"grid": {"match_thresh": [0.8]}}})[1] == []
