"""Detector training under faults: ``kill -9`` mid-epoch then resume, and a checkpoint
write that fails (disk full) — the state folder must always hold a loadable checkpoint.

- kill -9: ``snakemake train`` in a clone of the reference workdir (train outputs and state
  removed), SIGKILLed (Snakemake and the job) once the epoch-1 state is saved and epoch 2
  runs; the same command then hits Snakemake's stale lock, ``snakemake --unlock``, and the
  same command again resumes at epoch 2 and ends with the very weights of the
  uninterrupted reference run (CPU training is bit-exact, resume included).
- disk full: ``torch.save`` raising ``OSError(ENOSPC)`` for the epoch-2 state (in process),
  and a real write failure under a file-size limit (``RLIMIT_FSIZE``, subprocess): one
  clear error line, exit status 2, the epoch-1 state intact.
"""

from __future__ import annotations

import errno
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .harness import (kill_group, leftovers, params_json, run_snakemake, start_snakemake, stderr_lines,
                      subprocess_env, wait_for)
from .test_interruption_determinism import assert_same

pytestmark = [pytest.mark.slow]

STATE = "results/detector/state"
TRAIN_OUTPUTS = ("results/detector/weights/best_ckpt.pth", "results/detector/weights/latest_ckpt.pth",
                 "results/detector/train_log.txt", "results/detector/weights/config.json")
EXPORT_KEYS = {"model", "model_config", "format", "epoch", "metrics"}
STATE_KEYS = {"format", "fingerprint", "epoch", "phase", "model", "model_config", "optimizer", "scaler", "ema",
              "ema_updates", "best_ap50", "best_epoch", "history", "log", "rng"}


def load(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def fingerprint_folder(state: Path) -> Path:
    """The run's folder in the state dir (``<fingerprint[:16]>/``; one config trained there)."""
    folders = [p for p in state.iterdir() if p.is_dir()]
    assert len(folders) == 1 and re.fullmatch(r"[0-9a-f]{16}", folders[0].name), folders
    return folders[0]


def assert_state_dir_loads(state: Path) -> dict[str, int]:
    """Every checkpoint in the state dir's fingerprint folder loads; ``{name: epoch}``."""
    epochs = {}
    for path in sorted(fingerprint_folder(state).glob("*.pth")):
        ckpt = load(path)
        epochs[path.name] = int(ckpt["epoch"])
        keys = STATE_KEYS if path.name != "best.pth" else EXPORT_KEYS
        assert keys <= set(ckpt), (path.name, sorted(keys - set(ckpt)))
    assert not leftovers(state), leftovers(state)
    return epochs


# ---- kill -9 mid-epoch, then the same command --------------------------------------------
@pytest.fixture(scope="module")
def killed_and_resumed(reference_run, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("train-kill") / "w"
    shutil.copytree(reference_run, workdir, symlinks=True)
    for rel in TRAIN_OUTPUTS:
        (workdir / rel).unlink()
    shutil.rmtree(workdir / STATE)
    log = workdir / "results/logs/train.log"
    log.unlink()
    state = workdir / STATE

    proc = start_snakemake(workdir, "train")
    wait_for(lambda: any(state.glob("*/epoch_0001.pth")) and log.is_file() and "epoch 2/2" in log.read_text(),
             proc, timeout=300, what="the epoch-1 state and epoch 2 under way")
    kill_group(proc)
    killed = {"state": assert_state_dir_loads(state), "log": log.read_text(),
              "outputs": {rel: (workdir / rel).exists() for rel in TRAIN_OUTPUTS}}

    locked = run_snakemake(workdir, "train")
    unlock = run_snakemake(workdir, "--unlock")
    resumed = run_snakemake(workdir, "train")
    return dict(workdir=workdir, killed=killed, locked=locked, unlock=unlock, resumed=resumed,
                log=log.read_text() if log.is_file() else "")


def test_kill_came_mid_epoch_2(killed_and_resumed):
    k = killed_and_resumed["killed"]
    assert k["state"] == {"best.pth": 1, "epoch_0001.pth": 1, "latest.pth": 1}, k["state"]
    assert "epoch 2/2" in k["log"]  # the progress bar of epoch 2 had started


def test_same_command_needs_unlock_then_resumes(killed_and_resumed):
    r = killed_and_resumed
    assert r["locked"].returncode != 0 and "Directory cannot be locked" in r["locked"].stderr
    assert r["unlock"].returncode == 0, r["unlock"].stderr[-2000:]
    assert r["resumed"].returncode == 0, r["resumed"].stderr[-4000:]
    log = r["log"]
    assert re.search(r"resuming from \S*/state/[0-9a-f]{16}/latest\.pth \(epoch 1 done\)", log), log[-3000:]
    assert "starting fresh" not in log
    train_log = (r["workdir"] / "results/detector/train_log.txt").read_text()
    epochs = re.findall(r"\] epoch (\d+)/2 phase", train_log)
    assert epochs == ["1", "2"], train_log  # epoch 1 from the killed run, epoch 2 after resume
    assert "resuming from" in train_log


def test_resumed_checkpoints_load_and_match_the_uninterrupted_run(killed_and_resumed, reference_run):
    w = killed_and_resumed["workdir"]
    assert killed_and_resumed["resumed"].returncode == 0
    for name in ("best_ckpt.pth", "latest_ckpt.pth"):
        ckpt = load(w / "results/detector/weights" / name)
        assert EXPORT_KEYS <= set(ckpt), sorted(ckpt)
        assert ckpt["model_config"]["num_classes"] == 7
        assert_same(ckpt["model"], load(reference_run / "results/detector/weights" / name)["model"], name)
    assert assert_state_dir_loads(w / STATE)["latest.pth"] == 2


# ---- disk full while checkpointing --------------------------------------------------------
def train_argv(conv, cfg: dict, out: Path) -> list[str]:
    argv = ["--params", params_json(cfg), "--train-json", str(conv.coco_train), "--val-json", str(conv.coco_val),
            "--image-root", str(conv.dataroot), "--state-dir", str(out / "state"), "--runs-dir", str(out / "runs")]
    for name in ("best", "latest", "train-log", "config-out"):
        argv += [f"--{name}", str(out / f"{name}.out")]
    return argv


def test_disk_full_on_the_epoch_2_state_keeps_epoch_1(tiny_converted, tiny_config, tmp_path, monkeypatch, capsys):
    import torch

    from nuscmot.stages import train as train_cli
    from nuscmot.common import cli
    from nuscmot.detector.trainer import STATE_FORMAT

    real_save = torch.save
    failed = []

    def save(obj, f, *args, **kwargs):
        if isinstance(obj, dict) and obj.get("format") == STATE_FORMAT and obj.get("epoch") == 2:
            failed.append(str(f))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(f))
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)
    cfg = {**tiny_config["detector"], "max_iters_per_epoch": 1}
    with pytest.raises(SystemExit) as exit_:
        cli.run(train_cli.main, train_argv(tiny_converted, cfg, tmp_path))
    assert exit_.value.code == 2
    assert failed, "the epoch-2 state was never written"
    lines = stderr_lines(capsys.readouterr().err)
    assert re.fullmatch(r"error: \S+/state/[0-9a-f]{16}/(epoch_0002|latest)\.pth: .*No space left on device.*",
                        lines[-1]), lines[-5:]
    epochs = assert_state_dir_loads(tmp_path / "state")
    assert epochs["latest.pth"] == 1 and epochs["epoch_0001.pth"] == 1, epochs
    for name in ("best", "latest", "config-out"):  # (--train-log is rewritten after every epoch, by design)
        assert not (tmp_path / f"{name}.out").exists(), name


def _file_size_limit(limit: int):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


def test_real_write_failure_on_a_checkpoint_is_one_line(tiny_converted, tiny_config, tmp_path):
    """No file over 1 MB can be written: the first checkpoint (``best.pth``, ~3.6 MB) fails
    inside torch's own zip writer, as on a full disk."""
    cfg = {**tiny_config["detector"], "freeze_epochs": 0, "unfreeze_epochs": 1, "max_iters_per_epoch": 1}
    cmd = [sys.executable, "-m", "nuscmot.stages.train", *train_argv(tiny_converted, cfg, tmp_path)]
    proc = subprocess.run(cmd, env=subprocess_env(), capture_output=True, text=True, timeout=300,
                          preexec_fn=_file_size_limit(1 << 20))
    lines = stderr_lines(proc.stderr)
    assert proc.returncode == 2, lines[-15:]
    assert "Traceback" not in proc.stderr, lines[-15:]
    assert re.fullmatch(r"error: \S+/state/[0-9a-f]{16}/best\.pth: .+", lines[-1]), lines[-3:]
    assert not leftovers(tmp_path), leftovers(tmp_path)
    assert not list((tmp_path / "state").rglob("*.pth"))
