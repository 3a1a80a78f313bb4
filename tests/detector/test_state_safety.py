"""Nothing valuable is ever deleted by the trainer (issue 18, item 3).

- A missing or damaged pretrained checkpoint is refused (one line, exit 2) before the state
  dir is read or written: every file of the state dir and of the weights is byte-identical.
- A changed config starts fresh in its own folder beside the old state, which stays
  byte-identical; going back to the old config resumes the old state.
- A state dir of the flat layout before per-fingerprint folders resumes in place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nuscmot.detector import checkpoint as ckpt_io
from nuscmot.detector.config import DetectorConfig, detector_config, model_config
from nuscmot.detector.trainer import train
from nuscmot.detector.training.fingerprint import file_digest

from .helpers import small_detector_cfg, state_folder, train_paths

pytestmark = pytest.mark.slow


def hashes(*roots: Path) -> dict[str, str]:
    """sha256 of every file below ``roots`` (or of ``roots`` that are files)."""
    out = {}
    for root in roots:
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> Path:
    """An (untrained) YOLOX-nano of the small config's classes, as a pretrained checkpoint."""
    from nuscmot.detector.checkpoint import build_model

    path = tmp_path_factory.mktemp("pretrained") / "yolox_nano.pth"
    mc = model_config(DetectorConfig(model="yolox_nano", num_classes=7, input_size=(64, 96), multiscale_range=0))
    ckpt_io.export(path, build_model(mc).state_dict(), mc, epoch=0)
    return path


def argv(paths, cfg: dict) -> list[str]:
    args = ["--params", json.dumps(cfg)]
    for name in ("train_json", "val_json", "image_root", "state_dir", "runs_dir", "best", "latest", "train_log",
                 "config_out"):
        args += [f"--{name.replace('_', '-')}", str(getattr(paths, name))]
    return args


def run_train(paths, cfg: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nuscmot.stages.train", *argv(paths, cfg)],
                          capture_output=True, text=True, timeout=300)


def test_bad_pretrained_touches_nothing(tmp_path, toy_coco, pretrained):
    """A finished run (weights written) and a partial one of another config (state only);
    then a mistyped pretrained path, and a file of the wrong digest: one line each, exit 2,
    and every file of the state, the weights, the logs byte-identical, none added."""
    good = small_detector_cfg(pretrained=str(pretrained), pretrained_sha256=file_digest(pretrained),
                              allow_scratch=False, freeze_epochs=0, unfreeze_epochs=1, no_aug_epochs=0)
    paths = train_paths(tmp_path / "out", toy_coco)
    done = run_train(paths, good)
    assert done.returncode == 0, done.stderr[-3000:]
    longer = {**good, "unfreeze_epochs": 3}
    assert train(detector_config(longer), paths, max_epochs_this_run=1, env={}) is None
    assert len([p for p in paths.state_dir.iterdir() if p.is_dir()]) == 2
    before = hashes(paths.state_dir, paths.best.parent, paths.train_log, paths.runs_dir, pretrained)
    assert len(before) >= 10, sorted(before)

    missing = tmp_path / "weights" / "yolox_nano_typo.pth"
    other = tmp_path / "other.pth"
    shutil.copyfile(pretrained, other)
    with open(other, "ab") as fh:
        fh.write(b"\0")
    for cfg, error in [
        ({**longer, "pretrained": str(missing)},
         f"error: {missing}: pretrained checkpoint not found; download it or set detector.allow_scratch: true"),
        ({**longer, "pretrained": str(other), "basic_lr_per_img": 0.0025},
         f"error: {other}: sha256 {file_digest(other)[:16]}... does not match detector.pretrained_sha256 "),
    ]:
        proc = run_train(paths, cfg)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert proc.returncode == 2, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr and lines[-1].startswith(error), lines[-3:]
        assert [ln for ln in lines if ln.startswith("error:")] == [lines[-1]]
        assert hashes(paths.state_dir, paths.best.parent, paths.train_log, paths.runs_dir, pretrained) == before


def test_changed_config_starts_fresh_beside_the_old_state_and_going_back_resumes(tmp_path, toy_coco, caplog):
    paths = train_paths(tmp_path, toy_coco)
    old_cfg = detector_config(small_detector_cfg())
    train(old_cfg, paths, max_epochs_this_run=1, env={})
    old = state_folder(paths.state_dir)
    old_files = hashes(old)
    assert {Path(p).name for p in old_files} == {"latest.pth", "epoch_0001.pth", "best.pth", "fingerprint.json"}

    with caplog.at_level(logging.INFO, logger="nuscmot.detector.trainer"):
        train(detector_config(small_detector_cfg(basic_lr_per_img=0.0025)), paths, max_epochs_this_run=1, env={})
    new = next(p for p in paths.state_dir.iterdir() if p.is_dir() and p != old)
    assert f"no saved state, starting fresh in {new}; other states left untouched: {old} " \
           "(changed: basic_lr_per_img 0.00125 -> 0.0025)" in caplog.text
    assert "other states left untouched" in paths.train_log.read_text()
    assert hashes(old) == old_files
    assert ckpt_io.load(new / "latest.pth")["epoch"] == 1
    new_files = hashes(new)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nuscmot.detector.trainer"):
        train(old_cfg, paths, max_epochs_this_run=1, env={})
    assert f"resuming from {old / 'latest.pth'} (epoch 1 done)" in caplog.text
    assert ckpt_io.load(old / "latest.pth")["epoch"] == 2
    assert hashes(new) == new_files


def test_flat_state_of_the_earlier_layout_resumes_in_place(tmp_path, toy_coco, caplog):
    """A state dir with the files directly in it (as weights/demo/pretrain_state) resumes
    there; another config starts fresh in a folder and leaves those files alone."""
    paths = train_paths(tmp_path, toy_coco)
    cfg = detector_config(small_detector_cfg())
    train(cfg, paths, max_epochs_this_run=1, env={})
    folder = state_folder(paths.state_dir)
    for item in folder.iterdir():
        if item.suffix == ".pth":
            item.rename(paths.state_dir / item.name)
    shutil.rmtree(folder)
    flat = hashes(paths.state_dir)

    with caplog.at_level(logging.INFO, logger="nuscmot.detector.trainer"):
        train(detector_config(small_detector_cfg(seed=1)), paths, max_epochs_this_run=1, env={})
    assert "(what differs is not recorded)" in caplog.text
    assert {k: v for k, v in hashes(paths.state_dir).items() if Path(k).parent == paths.state_dir} == flat

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nuscmot.detector.trainer"):
        train(cfg, paths, max_epochs_this_run=1, env={})
    assert f"resuming from {paths.state_dir / 'latest.pth'} (epoch 1 done)" in caplog.text
    assert ckpt_io.load(paths.state_dir / "latest.pth")["epoch"] == 2
    assert len([p for p in paths.state_dir.iterdir() if p.is_dir()]) == 1  # (the seed=1 run's)
