"""The three entry points on the tiny converted dataset (synth -> convert -> here)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from nuscmot.stages import evaluate_detector, infer, train
from nuscmot.common.mot import read_mot, read_seqmap
from nuscmot.detector import checkpoint as ckpt_io

from .helpers import state_folder

pytestmark = pytest.mark.slow

# the tiny config's max_iters_per_epoch 3 (batch 4) leaves out most of each epoch's images
CAPPED_TINY = r"CAPPED RUN \(not the full recipe\): max_iters_per_epoch 3 \(12 of \d+ images an epoch\)$"

@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_config, tiny_converted):
    out = tmp_path_factory.mktemp("detector")
    cfg = tiny_config["detector"]  # as the e2e workflow runs it (3 iterations per epoch)
    paths = {
        "best": out / "weights" / "best_ckpt.pth", "latest": out / "weights" / "latest_ckpt.pth",
        "train_log": out / "train_log.txt", "config": out / "weights" / "config.json",
        "state": out / "state", "runs": out / "runs",
    }
    train.main([
        "--params", json.dumps(cfg), "--train-json", str(tiny_converted.coco_train),
        "--val-json", str(tiny_converted.coco_val), "--image-root", str(tiny_converted.dataroot),
        "--state-dir", str(paths["state"]), "--runs-dir", str(paths["runs"]), "--best", str(paths["best"]),
        "--latest", str(paths["latest"]), "--train-log", str(paths["train_log"]), "--config-out", str(paths["config"]),
    ])
    return out, paths


def test_training_outputs(trained, tiny_config):
    _, paths = trained
    state = ckpt_io.load(state_folder(paths["state"]) / "latest.pth")
    assert state["epoch"] == 2 and [r["phase"] for r in state["history"]] == [1, 2]
    assert all(np.isfinite(r["total_loss"]) for r in state["history"])
    best = ckpt_io.read_model(paths["best"], 7)
    assert best["model_config"]["input_size"] == tiny_config["detector"]["input_size"]
    assert 0.0 <= best["metrics"]["AP50"] <= 1.0
    ckpt_io.read_model(paths["latest"], 7)
    log = paths["train_log"].read_text()
    assert "phase 1: backbone frozen" in log and "phase 2: backbone unfrozen" in log and "val AP50" in log
    # a run shortened by a demo cap says so, once, and its checkpoints record it (for metrics.md)
    assert len(re.findall(CAPPED_TINY, log, re.M)) == 1, log
    assert best["training"]["caps"] == {"max_iters_per_epoch": 3}
    resolved = json.loads(paths["config"].read_text())
    assert resolved["detector"]["freeze_epochs"] == 1 and resolved["model_config"]["model"] == "yolox_nano"
    assert list(paths["runs"].glob("events.out.tfevents.*"))


def test_evaluate_detector_writes_json_and_markdown(trained, tiny_config, tiny_converted):
    out, paths = trained
    js, md = out / "metrics.json", out / "metrics.md"
    evaluate_detector.main([
        "--params", json.dumps(tiny_config["evaluate_detector"]), "--weights", str(paths["best"]),
        "--val-json", str(tiny_converted.coco_val), "--test-json", str(tiny_converted.coco_test),
        "--image-root", str(tiny_converted.dataroot), "--out-json", str(js), "--out-md", str(md),
    ])
    result = json.loads(js.read_text())
    for split in ("val", "test_front"):
        m = result["splits"][split]
        assert set(m) >= {"AP", "AP50", "AP75", "AR100", "per_class_AP50", "images"}
        assert sorted(m["per_class_AP50"]) == sorted(tiny_config["convert"]["classes"])
        assert all(0.0 <= m[k] <= 1.0 for k in ("AP", "AP50", "AP75", "AR100"))
    assert result["splits"]["val"]["AP50"] == pytest.approx(ckpt_io.read_model(paths["best"])["metrics"]["AP50"])
    text = md.read_text()
    assert "| val |" in text and "| test_front |" in text and "| car |" in text
    assert re.search(CAPPED_TINY, text.splitlines()[2]), text[:400]
    assert result["checkpoint"]["training"]["caps"] == {"max_iters_per_epoch": 3}


def test_infer_writes_a_det_file_per_sequence(trained, tiny_config, tiny_converted):
    out, paths = trained
    dets, timing = out / "detections", out / "infer_timing.json"
    params = {**tiny_config["infer"], "conf_threshold": 0.01}
    infer.main([
        "--params", json.dumps(params), "--weights", str(paths["best"]),
        "--mot-dir", str(tiny_converted.mot_dir), "--seqmap", str(tiny_converted.seqmap),
        "--image-root", str(tiny_converted.dataroot), "--out-dir", str(dets), "--timing", str(timing),
    ])
    seqs = read_seqmap(tiny_converted.seqmap)
    assert sorted(p.name for p in dets.iterdir()) == sorted(f"{s}.txt" for s in seqs)
    total = 0
    for seq in seqs:
        rows = read_mot(dets / f"{seq}.txt", "det")
        n_frames = len((tiny_converted.mot_dir / seq / "img1.txt").read_text().split())
        if len(rows):
            assert rows[:, 0].min() >= 1 and rows[:, 0].max() <= n_frames
            assert set(np.unique(rows[:, 7])) <= set(range(1, 8))
            assert (rows[:, 6] >= 0.01).all() and (rows[:, 6] <= 1).all()
            assert (rows[:, 2] >= 0).all() and (rows[:, 3] >= 0).all()
        total += len(rows)
    t = json.loads(timing.read_text())
    assert t["images"] > 0 and t["images_per_s"] > 0 and t["device"] == "cpu" and t["detections"] == total
    # deterministic: a second run writes byte-identical files
    again = out / "detections_again"
    infer.main([
        "--params", json.dumps(params), "--weights", str(paths["best"]),
        "--mot-dir", str(tiny_converted.mot_dir), "--seqmap", str(tiny_converted.seqmap),
        "--image-root", str(tiny_converted.dataroot), "--out-dir", str(again), "--timing", str(out / "t2.json"),
    ])
    for seq in seqs:
        assert (again / f"{seq}.txt").read_bytes() == (dets / f"{seq}.txt").read_bytes()


def test_wrong_checkpoint_exits_2_naming_the_file(trained, tiny_config, tiny_converted, tmp_path):
    """A checkpoint for other classes: exit 2, one line naming the file, no output folder."""
    bad = tmp_path / "coco80.pth"
    ck = ckpt_io.load(trained[1]["best"])
    ck["model_config"] = {**ck["model_config"], "num_classes": 80}
    ckpt_io.save(ck, bad)
    out_dir = tmp_path / "dets"
    proc = subprocess.run([
        sys.executable, "-m", "nuscmot.stages.infer", "--params", json.dumps(tiny_config["infer"]),
        "--weights", str(bad), "--mot-dir", str(tiny_converted.mot_dir), "--seqmap", str(tiny_converted.seqmap),
        "--image-root", str(tiny_converted.dataroot), "--out-dir", str(out_dir), "--timing", str(tmp_path / "t.json"),
    ], capture_output=True, text=True)
    assert proc.returncode == 2
    err = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert err == [f"error: {bad}: checkpoint has 80 classes, expected 7"]
    assert not out_dir.exists() and not (tmp_path / "t.json").exists()
