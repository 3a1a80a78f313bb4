"""Entry points on the tiny converted dataset: gt_detections -> train_trackssm -> track."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nuscmot.stages import gt_detections, heldout_trackssm, run_tracker as track, train_trackssm
from nuscmot.common import cli
from nuscmot.common.errors import InputError
from nuscmot.common.mot import SeqInfo, read_mot, read_seqinfo, read_seqmap, write_mot, write_seqinfo, write_seqmap
from support.simulate import simulate_scene
from nuscmot.tracking.trackssm.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def dets_dir(tiny_converted, tiny_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("gtdets") / "detections_gt"
    gt_detections.main([
        "--params", json.dumps(tiny_config["gt_detections"]),
        "--mot-dir", str(tiny_converted.mot_dir), "--seqmap", str(tiny_converted.seqmap), "--out-dir", str(out),
    ])
    return out


@pytest.fixture(scope="module")
def trained(tiny_converted, tiny_config, tmp_path_factory):
    root = tmp_path_factory.mktemp("trackssm")
    paths = {"model": root / "model.pt", "training": root / "training.json", "heldout": root / "heldout.json",
             "runs": root / "runs"}
    train_trackssm.main([
        "--params", json.dumps(tiny_config["trackssm"]),
        "--train", str(tiny_converted.traj_train), "--val", str(tiny_converted.traj_val),
        "--runs-dir", str(paths["runs"]), "--model", str(paths["model"]), "--training", str(paths["training"]),
    ])
    heldout_trackssm.main([
        "--params", json.dumps(tiny_config["tracking"]["motion"]["kalman"]), "--model", str(paths["model"]),
        "--val", str(tiny_converted.traj_val), "--out", str(paths["heldout"]),
    ])
    return paths


def track_args(cfg, tracker, dets, conv, out, model=None, **extra):
    params = {"cfg": cfg["tracking"]["association"], "motion": cfg["tracking"]["motion"][tracker], **extra}
    argv = ["--params", json.dumps(params), "--tracker", tracker, "--dets-dir", str(dets),
            "--mot-dir", str(conv.mot_dir), "--seqmap", str(conv.seqmap), "--out-dir", str(out)]
    return argv + (["--model", str(model)] if model else [])


def test_gt_detections_files_and_determinism(dets_dir, tiny_converted, tiny_config, tmp_path):
    names = read_seqmap(tiny_converted.seqmap)
    assert sorted(p.stem for p in dets_dir.glob("*.txt")) == sorted(names)
    n_gt = sum(len(read_mot(tiny_converted.mot_dir / n / "gt" / "gt.txt", "gt")) for n in names)
    n_det = sum(len(read_mot(dets_dir / f"{n}.txt", "det")) for n in names)
    assert n_det > 0 or n_gt == 0
    again = tmp_path / "again"
    gt_detections.main(["--params", json.dumps(tiny_config["gt_detections"]), "--mot-dir", str(tiny_converted.mot_dir),
                        "--seqmap", str(tiny_converted.seqmap), "--out-dir", str(again)])
    for n in names:
        assert (again / f"{n}.txt").read_bytes() == (dets_dir / f"{n}.txt").read_bytes()


def test_kalman_tracking_outputs_and_is_deterministic(dets_dir, tiny_converted, tiny_config, tmp_path):
    names = read_seqmap(tiny_converted.seqmap)
    for run in ("a", "b"):
        track.main(track_args(tiny_config, "kalman", dets_dir, tiny_converted, tmp_path / run))
    total = n_gt = 0
    for n in names:
        a = (tmp_path / "a" / f"{n}.txt").read_bytes()
        assert a == (tmp_path / "b" / f"{n}.txt").read_bytes()
        rows = read_mot(tmp_path / "a" / f"{n}.txt", "result")
        assert (rows[:, 1] >= 1).all()
        total += len(rows)
        n_gt += len(read_mot(tiny_converted.mot_dir / n / "gt" / "gt.txt", "gt"))
    assert total > 0 or n_gt == 0


@pytest.fixture(scope="module")
def sim_mot(tmp_path_factory):
    """A small MOT folder of simulated CAM_FRONT-like scenes (always populated)."""
    root = tmp_path_factory.mktemp("sim")
    conv = SimpleNamespace(mot_dir=root / "mot", seqmap=root / "seqmap.txt")
    rng = np.random.default_rng(7)
    names = [f"sim-{i}" for i in range(2)]
    for name in names:
        write_seqinfo(conv.mot_dir / name / "seqinfo.ini", SeqInfo(name=name, length=25, width=800, height=450))
        write_mot(conv.mot_dir / name / "gt" / "gt.txt", simulate_scene(rng, 25, 12, respawn=True), "gt")
    write_seqmap(conv.seqmap, names)
    return conv


def test_entry_points_track_simulated_scenes(sim_mot, tiny_config, tmp_path):
    dets = tmp_path / "dets"
    gt_detections.main(["--params", json.dumps(tiny_config["gt_detections"]), "--mot-dir", str(sim_mot.mot_dir),
                        "--seqmap", str(sim_mot.seqmap), "--out-dir", str(dets)])
    track.main(track_args(tiny_config, "kalman", dets, sim_mot, tmp_path / "a"))
    track.main(track_args(tiny_config, "kalman", dets, sim_mot, tmp_path / "b"))
    for name in read_seqmap(sim_mot.seqmap):
        rows = read_mot(tmp_path / "a" / f"{name}.txt", "result")
        gt = read_mot(sim_mot.mot_dir / name / "gt" / "gt.txt", "gt")
        assert 0.15 * len(gt) < len(rows) <= len(gt) + 25  # 20% dropped, low scores, fast motion at 2 Hz
        assert (tmp_path / "a" / f"{name}.txt").read_bytes() == (tmp_path / "b" / f"{name}.txt").read_bytes()


def test_trackssm_training_outputs(trained, tiny_config):
    report = {**json.loads(trained["training"].read_text()), **json.loads(trained["heldout"].read_text())}
    assert report["training"]["epochs_run"] >= 1
    assert report["training"]["stopped_by"] in ("epochs", "early_stopping")  # never the wall clock
    synth = tiny_config["synth"]
    size = [synth["image_width"], synth["image_height"]]
    assert report["trained_on"] == {"frame_rate": 2.0, "image_sizes": [size]}
    _, trained_on, meta = load_checkpoint(trained["model"])
    assert trained_on.frame_rate == 2.0 and trained_on.image_sizes == (tuple(size),)
    assert meta["trackssm"]["rollout_steps"] == tiny_config["trackssm"]["rollout_steps"]
    for name in ("trackssm", "kalman", "constant_position"):
        assert set(report["heldout"]["overall"][name]) == {"iou_1step", "iou_3step"}
    assert set(report["heldout"]["by_history"]) == {"continuous", "after_gap"}
    assert any(trained["runs"].iterdir())  # TensorBoard events


def test_trackssm_tracking_is_deterministic(trained, dets_dir, tiny_converted, tiny_config, tmp_path):
    names = read_seqmap(tiny_converted.seqmap)
    for run in ("a", "b"):
        track.main(track_args(tiny_config, "trackssm", dets_dir, tiny_converted, tmp_path / run, trained["model"]))
    for n in names:
        assert (tmp_path / "a" / f"{n}.txt").read_bytes() == (tmp_path / "b" / f"{n}.txt").read_bytes()


def test_sequence_without_detections_gives_an_empty_file(tiny_converted, tiny_config, tmp_path):
    dets = tmp_path / "dets"
    dets.mkdir()
    names = read_seqmap(tiny_converted.seqmap)
    for n in names:  # an empty det file: no detections
        (dets / f"{n}.txt").write_text("")
    track.main(track_args(tiny_config, "kalman", dets, tiny_converted, tmp_path / "out"))
    for n in names:
        assert (tmp_path / "out" / f"{n}.txt").read_text() == ""
    (dets / f"{names[-1]}.txt").unlink()  # a missing one is an error (nuscmot.common.mot.read_dets)
    with pytest.raises(InputError, match=rf"{names[-1]}\.txt: missing detection file for sequence {names[-1]}"):
        track.main(track_args(tiny_config, "kalman", dets, tiny_converted, tmp_path / "out2"))
    assert not (tmp_path / "out2").exists()


def test_bad_checkpoint_is_an_input_error_naming_the_file(dets_dir, tiny_converted, tiny_config, tmp_path):
    bad = tmp_path / "not_a_model.pt"
    bad.write_bytes(b"\x00garbage")
    argv = track_args(tiny_config, "trackssm", dets_dir, tiny_converted, tmp_path / "out", bad)
    with pytest.raises(InputError, match="not_a_model.pt"):
        track.main(argv)
    with pytest.raises(SystemExit) as exc:
        cli.run(track.main, argv)
    assert exc.value.code == 2
    assert not (tmp_path / "out").exists()
    other = tmp_path / "other_config.pt"
    payload = {"format": "nuscmot-trackssm", "version": 1, "model": {"d_model": 24}, "state_dict": {"w": torch.zeros(1)}}
    torch.save(payload, other)
    with pytest.raises(InputError, match="other_config.pt"):
        track.main(track_args(tiny_config, "trackssm", dets_dir, tiny_converted, tmp_path / "out", other))
    with pytest.raises(InputError, match="--model"):
        track.main(track_args(tiny_config, "trackssm", dets_dir, tiny_converted, tmp_path / "out"))


def test_bad_params_are_input_errors(dets_dir, tiny_converted, tiny_config, tmp_path):
    cfg = json.loads(json.dumps(tiny_config))
    cfg["tracking"]["association"]["match_tresh"] = 0.5
    with pytest.raises(InputError, match="match_tresh"):
        track.main(track_args(cfg, "kalman", dets_dir, tiny_converted, tmp_path / "out"))
    with pytest.raises(InputError, match="drop_mode"):
        gt_detections.main(["--params", json.dumps({"drop_mode": "x"}), "--mot-dir", str(tiny_converted.mot_dir),
                            "--seqmap", str(tiny_converted.seqmap), "--out-dir", str(tmp_path / "d")])


def _with_yaw(doc: dict, deg_per_frame: float) -> dict:
    """The pose file of a camera that also yaws ``deg_per_frame`` per frame (about its own y axis)."""
    from pyquaternion import Quaternion

    for f in doc["frames"]:
        turn = Quaternion(axis=[0, 1, 0], degrees=deg_per_frame * (f["frame"] - 1))
        f["rotation"] = list((Quaternion(f["rotation"]) * turn).elements)
    return doc


def test_ego_compensation_reads_each_sequence_pose_file(dets_dir, tiny_converted, tiny_config, tmp_path):
    """The tiny test scenes' ego drives straight: compensation is then a no-op (same bytes);
    a pose file that says the camera turned changes the tracking of that sequence."""
    import shutil

    from nuscmot.data.cam_pose import CAM_POSE_FILE, read_cam_poses
    from nuscmot.tracking.ego import sequence_homographies

    names = read_seqmap(tiny_converted.seqmap)
    on_cfg = json.loads(json.dumps(tiny_config))
    on_cfg["tracking"]["association"]["ego_compensation"] = True
    track.main(track_args(tiny_config, "kalman", dets_dir, tiny_converted, tmp_path / "off"))
    track.main(track_args(on_cfg, "kalman", dets_dir, tiny_converted, tmp_path / "on"))
    for n in names:
        poses = read_cam_poses(tiny_converted.mot_dir / n / CAM_POSE_FILE, read_seqinfo(tiny_converted.mot_dir / n / "seqinfo.ini").length)
        warps = sequence_homographies(poses.rotations, poses.intrinsic)
        np.testing.assert_allclose(warps, np.broadcast_to(np.eye(3), warps.shape), atol=1e-9)
        assert (tmp_path / "on" / f"{n}.txt").read_bytes() == (tmp_path / "off" / f"{n}.txt").read_bytes()

    turned = SimpleNamespace(mot_dir=tmp_path / "mot", seqmap=tiny_converted.seqmap)
    shutil.copytree(tiny_converted.mot_dir, turned.mot_dir)
    busiest = max(names, key=lambda n: len(read_mot(tmp_path / "off" / f"{n}.txt", "result")))
    pose_file = turned.mot_dir / busiest / CAM_POSE_FILE
    pose_file.write_text(json.dumps(_with_yaw(json.loads(pose_file.read_text()), 8.0)))
    track.main(track_args(on_cfg, "kalman", dets_dir, turned, tmp_path / "turned"))
    assert (tmp_path / "turned" / f"{busiest}.txt").read_bytes() != (tmp_path / "off" / f"{busiest}.txt").read_bytes()
    for n in set(names) - {busiest}:
        assert (tmp_path / "turned" / f"{n}.txt").read_bytes() == (tmp_path / "off" / f"{n}.txt").read_bytes()


def mot_with_frame_rate(conv, root, rate):
    """A copy of the tiny MOT folder whose seqinfo.ini files claim ``rate`` frames/s."""
    mot = root / "mot"
    shutil.copytree(conv.mot_dir, mot)
    for ini in mot.glob("*/seqinfo.ini"):
        ini.write_text(ini.read_text().replace("frameRate=2\n", f"frameRate={rate}\n"))
    return SimpleNamespace(mot_dir=mot, seqmap=conv.seqmap)


def test_trackssm_refuses_another_frame_rate_unless_allowed(trained, dets_dir, tiny_converted, tiny_config, tmp_path):
    conv = mot_with_frame_rate(tiny_converted, tmp_path, 10)
    first = read_seqmap(conv.seqmap)[0]
    argv = track_args(tiny_config, "trackssm", dets_dir, conv, tmp_path / "out", trained["model"])
    with pytest.raises(InputError) as err:
        track.main(argv)
    n = len(read_seqmap(conv.seqmap))
    assert str(err.value).startswith(f"{conv.seqmap}: {n} of {n} sequences cannot be tracked: {first} "
                                     f"({conv.mot_dir / first / 'seqinfo.ini'}: frameRate 10 Hz but the TrackSSM model "
                                     "was trained at 2 Hz")
    assert "allow_rate_mismatch: true" in str(err.value) and not (tmp_path / "out").exists()
    cfg = json.loads(json.dumps(tiny_config))
    cfg["tracking"]["motion"]["trackssm"]["allow_rate_mismatch"] = True
    track.main(track_args(cfg, "trackssm", dets_dir, conv, tmp_path / "out", trained["model"]))
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.txt")) == sorted(read_seqmap(conv.seqmap))


def test_max_age_follows_the_sequence_frame_rate(dets_dir, tiny_converted, tiny_config, tmp_path):
    """The same max_age_s (15 s) at a claimed 0.02 Hz keeps a lost track round(0.3) = 0 frames."""
    track.main(track_args(tiny_config, "kalman", dets_dir, tiny_converted, tmp_path / "ref"))
    outs = {}
    for rate in (2, 0.02):
        conv = mot_with_frame_rate(tiny_converted, tmp_path / str(rate), rate)
        track.main(track_args(tiny_config, "kalman", dets_dir, conv, tmp_path / f"out{rate}"))
        outs[rate] = {p.name: p.read_bytes() for p in sorted((tmp_path / f"out{rate}").glob("*.txt"))}
    assert outs[2] == {p.name: p.read_bytes() for p in sorted((tmp_path / "ref").glob("*.txt"))}
    assert outs[2] != outs[0.02]


def test_detection_scores_outside_0_1_are_an_error_unless_transformed(tiny_converted, tiny_config, tmp_path):
    names = read_seqmap(tiny_converted.seqmap)
    dets = tmp_path / "dets"
    dets.mkdir()
    rows = ["1,-1,10.00,20.00,30.00,40.00,0.9000,1,-1,-1", "", "2,-1,12.00,20.00,30.00,40.00,16.0000,1,-1,-1",
            "3,-1,14.00,20.00,30.00,40.00,-0.8500,1,-1,-1"]
    for n in names[1:]:
        (dets / f"{n}.txt").write_text("")
    (dets / f"{names[0]}.txt").write_text("\n".join(rows) + "\n")
    with pytest.raises(InputError) as err:
        track.main(track_args(tiny_config, "kalman", dets, tiny_converted, tmp_path / "out"))
    assert str(err.value) == (f"{dets / names[0]}.txt:3: detection score 16 is outside [0, 1], the range of every "
                              "tracking threshold (a detector that emits logits needs tracking.score_transform.kind: sigmoid)")
    assert not (tmp_path / "out").exists()
    track.main(track_args(tiny_config, "kalman", dets, tiny_converted, tmp_path / "out",
                          score_transform={"kind": "sigmoid", "offset": 0.0}))
    out = read_mot(tmp_path / "out" / f"{names[0]}.txt", "result")
    expected = 1 / (1 + np.exp(-np.array([0.9, 16.0, -0.85])))
    assert out[:, 0].tolist() == [1, 2, 3] and out[:, 6] == pytest.approx(expected, abs=1e-4)  # (4 decimals in the file)
    with pytest.raises(InputError, match="score_transform.*kind"):
        track.main(track_args(tiny_config, "kalman", dets, tiny_converted, tmp_path / "x", score_transform={"kind": "exp"}))
