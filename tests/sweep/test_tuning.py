"""Tuning on the tuning split: leak-free by construction, every model's own keys, settings reach track."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from nuscmot.stages import gt_detections, sweep_block, sweep_tracking as sweep_summary, run_tracker as track
from nuscmot.common.errors import InputError
from nuscmot.common.mot import read_seqmap
from nuscmot.sweep.plan import SweepPlan
from nuscmot.tracking.kalman import KalmanConfig

GRID = {"grid": {"match_thresh": [0.8, 0.9]},
        "motion": {"kalman": {"std_weight_velocity": [0.002, 0.02]}, "trackssm": {"rollout_horizon": [1, 3]}}}


@pytest.fixture(scope="module")
def tune_dets(tiny_converted, tiny_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("tune") / "dets"
    gt_detections.main(["--params", json.dumps(tiny_config["gt_detections"]), "--mot-dir", str(tiny_converted.mot_tune),
                        "--seqmap", str(tiny_converted.seqmap_tune), "--out-dir", str(out)])
    return out


def plan(tiny_config, sweep=GRID) -> SweepPlan:
    return SweepPlan({**tiny_config, "sweep": {**sweep, "objective": {"metric": "IDSW"}}})


def test_a_models_own_keys_do_not_multiply_the_other_models_cells(tiny_config):
    p = plan(tiny_config)
    assert len(p.cells["kalman"]) == 4 and len(p.cells["trackssm"]) == 4
    assert all("trackssm__" not in c.name for c in p.cells["kalman"])
    with pytest.raises(InputError, match="not a tracking.association key"):
        plan(tiny_config, {"grid": {"kalman__std_weight_velocity": [0.1]}})
    with pytest.raises(InputError, match="unknown motion model 'ukf'"):
        plan(tiny_config, {"grid": {"match_thresh": [0.8]}, "motion": {"ukf": {"q": [1]}}})


def test_tuning_split_is_the_detector_val_side(tiny_converted):
    splits = json.loads(tiny_converted.splits.read_text())
    names = read_seqmap(tiny_converted.seqmap_tune)
    assert names and set(names) == set(splits["detector_val"]) and not set(names) & set(splits["test"])
    assert all((tiny_converted.mot_tune / n / "gt" / "gt.txt").is_file() for n in names)


def block_args(tiny_config, tiny_converted, dets, out, tracker="kalman", seqmap=None, mot_dir=None):
    return ["--params", plan(tiny_config).block_params(tracker), "--tracker", tracker, "--source", "gt",
            "--dets-dir", str(dets), "--mot-dir", str(mot_dir or tiny_converted.mot_tune),
            "--seqmap", str(seqmap or tiny_converted.seqmap_tune), "--splits", str(tiny_converted.splits),
            "--test-seqmap", str(tiny_converted.seqmap), "--out", str(out)]


def test_a_test_scene_in_the_tuning_seqmap_is_refused(tiny_config, tiny_converted, tune_dets, tmp_path):
    bad = tmp_path / "tune.txt"
    bad.write_text("name\n" + "\n".join(read_seqmap(tiny_converted.seqmap) + read_seqmap(tiny_converted.seqmap_tune)) + "\n")
    with pytest.raises(InputError, match="tuning must never read the test split"):
        sweep_block.main(block_args(tiny_config, tiny_converted, tune_dets, tmp_path / "b.json", seqmap=bad))
    assert not (tmp_path / "b.json").exists()


def test_tuning_reads_no_test_scene(tiny_config, tiny_converted, tune_dets, tmp_path):
    """Every file the tuning block opens is recorded (a Python audit hook): none is of a test scene."""
    test_scenes = read_seqmap(tiny_converted.seqmap)
    opened: list[str] = []
    recording = [True]

    def hook(event, args):
        if recording[0] and event == "open" and isinstance(args[0], (str, Path)):
            opened.append(str(args[0]))

    sys.addaudithook(hook)  # (audit hooks cannot be removed: the flag turns it off)
    try:
        sweep_block.main(block_args(tiny_config, tiny_converted, tune_dets, tmp_path / "block.json"))
    finally:
        recording[0] = False
    assert any(str(tiny_converted.mot_tune) in p for p in opened)  # the hook sees the reads
    leaked = [p for p in opened if str(tiny_converted.mot_dir) in p or any(s in Path(p).parts for s in test_scenes)
              or any(Path(p).name.startswith(s) for s in test_scenes)]
    assert not leaked, leaked
    doc = json.loads((tmp_path / "block.json").read_text())
    assert [r["cell"] for r in doc["rows"]] == [c.name for c in plan(tiny_config).cells["kalman"]]
    assert {r["motion"]["std_weight_velocity"] for r in doc["rows"]} == {0.002, 0.02}


def test_summary_best_settings_reach_track(tiny_config, tiny_converted, tune_dets, tmp_path):
    block = tmp_path / "gt_kalman.json"
    sweep_block.main(block_args(tiny_config, tiny_converted, tune_dets, block))
    params = {"cfg": {**GRID, "objective": {"metric": "IDSW"}}, "trackers": ["kalman"]}
    sweep_summary.main(["--params", json.dumps(params), "--blocks", str(block), "--out-csv", str(tmp_path / "s.csv"),
                        "--out-best", str(tmp_path / "best.json"), "--heatmaps-dir", str(tmp_path / "heat")])
    best = json.loads((tmp_path / "best.json").read_text())
    chosen = best["sources"]["gt"]["kalman"]
    assert best["split"] == "tune" and chosen["cell"] in {r["cell"] for r in json.loads(block.read_text())["rows"]}
    assert chosen["motion"]["std_weight_velocity"] == chosen["params"]["kalman__std_weight_velocity"]

    used = track.settings({"cfg": tiny_config["tracking"]["association"], "motion": {}}, "kalman",
                          tmp_path / "best.json", "gt", None)
    assert used["association"] == chosen["association"] and used["motion"] == chosen["motion"]
    assert used["origin"] == f"tuned on tune ({chosen['cell']})"
    flipped = track.settings({"cfg": {}, "motion": {}}, "kalman", tmp_path / "best.json", "gt", "flip")
    assert flipped["association"]["ego_compensation"] is (not chosen["association"].get("ego_compensation", False))
    with pytest.raises(InputError, match="no tuned settings of trackssm on gt"):
        track.settings({}, "trackssm", tmp_path / "best.json", "gt", None)


@pytest.mark.parametrize("rate, expected", [(30.0, 1 / 160), (2.0, 1 / 160 * 15 ** 1.5), (10.0, 1 / 160 * 3 ** 1.5)])
def test_kalman_velocity_noise_follows_the_frame_rate(rate, expected):
    assert KalmanConfig().velocity_weight(rate) == pytest.approx(expected)
    assert KalmanConfig(reference_rate=0).velocity_weight(rate) == 1 / 160
    assert KalmanConfig().motion(rate).kf.std_weight_velocity == pytest.approx(expected)
    with pytest.raises(InputError, match="must be >= 0"):
        KalmanConfig(rate_exponent=-1)
