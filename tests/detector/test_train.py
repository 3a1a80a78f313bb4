"""The training loop: resume equivalence, NaN handling, fresh-start rules, DDP gating."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import pytest
import torch
import torch.distributed as dist

from nuscmot.common.errors import InputError, TrainingError
from nuscmot.detector import checkpoint as ckpt_io
from nuscmot.detector.config import detector_config
from nuscmot.detector.trainer import DistContext, train

from .helpers import small_detector_cfg, state_folder, train_paths

pytestmark = pytest.mark.slow


def weights(path):
    return ckpt_io.load(path)["model"]


def test_resume_after_interrupt_equals_straight_run(tmp_path, toy_coco):
    """k epochs straight == k1 epochs, 'kill', rerun the same command (crosses the phase switch)."""
    cfg = detector_config(small_detector_cfg())  # 1 frozen + 2 unfrozen epochs, last one no-aug
    straight = train_paths(tmp_path / "a", toy_coco)
    summary = train(cfg, straight, env={})
    assert summary["epochs"] == 3 and len(summary["history"]) == 3

    resumed = train_paths(tmp_path / "b", toy_coco)
    assert train(cfg, resumed, max_epochs_this_run=1, env={}) is None  # stopped after epoch 1
    assert not resumed.best.exists() and not resumed.latest.exists()
    assert ckpt_io.load(state_folder(resumed.state_dir) / "latest.pth")["epoch"] == 1
    train(cfg, resumed, env={})

    for name in ("latest", "best"):
        a, b = weights(getattr(straight, name)), weights(getattr(resumed, name))
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    log = resumed.train_log.read_text()
    assert "resuming from" in log and "phase 2: backbone unfrozen" in log
    assert "phase 1: backbone frozen, " in log and "trainable parameters" in log
    # outputs: TensorBoard events, resolved config, kept epoch checkpoints
    assert list(straight.runs_dir.glob("events.out.tfevents.*"))
    resolved = json.loads(straight.config_out.read_text())
    assert resolved["model_config"]["num_classes"] == 7 and resolved["derived"]["total_epochs"] == 3
    assert sorted(p.name for p in state_folder(straight.state_dir).glob("epoch_*.pth")) == [
        "epoch_0002.pth", "epoch_0003.pth"]
    best = ckpt_io.read_model(straight.best, 7)
    assert best["model_config"]["model"] == "yolox_nano" and "AP50" in best["metrics"]


def test_short_run_learns(tmp_path):
    """The tiny config's slice, ~130 SGD steps on simple rendered boxes: loss halves-ish and
    val AP@0.5 > 0. (From scratch YOLOX needs ~100 steps before its first hits; the tiny
    synthetic scenes hold too few boxes for that, so this uses its own rendered set.)"""
    import yaml

    from .helpers import render_coco

    rng = np.random.default_rng(1)
    kw = {"size": (64, 96), "objects": (2, 4), "box": (12, 32)}
    data = SimpleNamespace(root=tmp_path, train=render_coco(tmp_path, "train", 128, 1, rng, **kw),
                           val=render_coco(tmp_path, "val", 16, 1000, rng, **kw))
    tiny = yaml.safe_load((Path(__file__).parents[1] / "configs" / "tiny.yaml").read_text())["detector"]
    cfg = {**tiny, "input_size": [64, 96], "batch_size": 8, "freeze_epochs": 1, "unfreeze_epochs": 7,
           "max_iters_per_epoch": 0, "basic_lr_per_img": 0.0025, "mosaic_prob": 0.0, "mixup_prob": 0.0,
           "eval_interval": 4, "keep_epoch_ckpts": 0}
    summary = train(detector_config(cfg), train_paths(tmp_path / "run", data), env={})
    losses = [r["total_loss"] for r in summary["history"]]
    assert losses[-1] < 0.75 * losses[0], losses
    assert summary["best_ap50"] > 0, summary["history"][-1]["val"]


def test_non_finite_loss_stops_with_training_error_and_keeps_checkpoint(tmp_path, toy_coco, monkeypatch):
    from yolox.models import YOLOXHead

    real = YOLOXHead.get_losses
    calls = {"n": 0}

    def diverging(self, *args, **kwargs):  # the 3rd step (epoch 2) diverges
        out = real(self, *args, **kwargs)
        calls["n"] += 1
        return (out[0] * float("nan") if calls["n"] >= 3 else out[0], *out[1:])

    monkeypatch.setattr(YOLOXHead, "get_losses", diverging)
    paths = train_paths(tmp_path, toy_coco)
    with pytest.raises(TrainingError, match=r"non-finite loss \(nan\) at epoch 2, iteration 1.*last good checkpoint"):
        train(detector_config(small_detector_cfg()), paths, env={})
    state = ckpt_io.load(state_folder(paths.state_dir) / "latest.pth")
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert not paths.best.exists() and not paths.latest.exists()


def test_missing_pretrained_without_allow_scratch_is_an_input_error(tmp_path, toy_coco):
    cfg = detector_config(small_detector_cfg(pretrained=str(tmp_path / "yolox_nano.pth"), allow_scratch=False))
    with pytest.raises(InputError, match=r"yolox_nano.pth: pretrained checkpoint not found"):
        train(cfg, train_paths(tmp_path, toy_coco), env={})


def test_bad_train_json_is_an_input_error(tmp_path, toy_coco):
    bad = tmp_path / "train.json"
    bad.write_text(json.dumps({"images": [], "annotations": [], "categories": [{"id": 3, "name": "bus"}]}))
    paths = train_paths(tmp_path, toy_coco)
    paths = paths.__class__(**{**paths.__dict__, "train_json": bad})
    with pytest.raises(InputError, match=r"train.json: category ids \[3\] do not match"):
        train(detector_config(small_detector_cfg()), paths, env={})


def test_ddp_is_gated_on_world_size():
    assert not DistContext.from_env({}).distributed
    assert not DistContext.from_env({"WORLD_SIZE": "1", "RANK": "0"}).distributed
    ctx = DistContext.from_env({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"})
    assert ctx.distributed and not ctx.is_main and ctx.local_rank == 1
    DistContext.from_env({}).init(torch.device("cpu"))  # single process: no process group
    assert not (dist.is_available() and dist.is_initialized())


def test_torchrun_two_processes_on_cpu(tmp_path, toy_coco):
    """The DDP branch for real: `--nproc 2` -> torchrun, 2 CPU processes (gloo); only rank 0 writes."""
    import subprocess
    import sys

    paths = train_paths(tmp_path, toy_coco)
    cfg = small_detector_cfg(unfreeze_epochs=1, no_aug_epochs=0, threads=1)
    args = ["--params", json.dumps(cfg), "--train-json", str(paths.train_json), "--val-json", str(paths.val_json),
            "--image-root", str(paths.image_root), "--state-dir", str(paths.state_dir), "--runs-dir", str(paths.runs_dir),
            "--best", str(paths.best), "--latest", str(paths.latest), "--train-log", str(paths.train_log),
            "--config-out", str(paths.config_out)]
    # --nproc 2 is what the `train` rule passes for resources.gpu=2: it re-launches under torchrun
    proc = subprocess.run([sys.executable, "-m", "nuscmot.stages.train", *args, "--nproc", "2"],
                          capture_output=True, text=True, timeout=300, env={**__import__("os").environ,
                                                                             "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world size 2" in paths.train_log.read_text()
    assert len(list(paths.runs_dir.glob("events.out.tfevents.*"))) == 1
    assert json.loads(paths.config_out.read_text())["derived"]["world_size"] == 2
    ckpt_io.read_model(paths.best, 7)
    assert proc.stderr.count("phase 1: backbone frozen") == 1  # rank 1 logs warnings only


def test_nproc_relaunches_under_torchrun_once():
    from nuscmot.detector.training.launch import needs_launch, torchrun_command

    argv = ["--params", "{}", "--nproc", "4", "--best", "b.pth"]
    cmd = torchrun_command(4, argv, python="/py")
    assert cmd[:7] == ["/py", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "4", "-m"]
    # --nproc is not passed on: torchrun's parser would read it as an ambiguous abbreviation
    assert cmd[7:] == ["nuscmot.stages.train", "--params", "{}", "--best", "b.pth"]
    assert torchrun_command(2, ["--nproc=2", "--best", "b"], python="/py")[7:] == ["nuscmot.stages.train", "--best", "b"]
    assert needs_launch(4, {}) and not needs_launch(1, {})
    assert not needs_launch(4, {"LOCAL_RANK": "0", "WORLD_SIZE": "4"})  # already one of torchrun's


def test_nproc_below_one_is_a_usage_error():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "nuscmot.stages.train", "--params", "{}", *[
        x for name in ("train-json", "val-json", "image-root", "state-dir", "runs-dir", "best", "latest",
                       "train-log", "config-out") for x in (f"--{name}", "x")], "--nproc", "0"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--nproc must be at least 1, got 0" in proc.stderr
