"""Shared fixtures: a tiny synthetic nuScenes-format dataset and its conversion.

Generated once per test session (per xdist worker) through the real entry points, so
every stage's tests run on data made exactly as the pipeline makes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TINY_CONFIG = ROOT / "tests" / "configs" / "tiny.yaml"


def pytest_configure(config) -> None:
    """OpenCV runs sequentially in the test processes: tests call augmentations in-process and
    then start DataLoader workers by fork, and a fork taken while OpenCV's thread pool holds its
    lock leaves the child waiting forever in ``cv2.setNumThreads`` (the workers' init). Results
    do not depend on OpenCV's threads."""
    import cv2

    cv2.setNumThreads(0)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    """The tiny test config as a dict (a fresh copy per session)."""
    return yaml.safe_load(TINY_CONFIG.read_text())


@pytest.fixture(scope="session")
def tiny_dataroot(tmp_path_factory, tiny_config) -> Path:
    """A tiny synthetic nuScenes-format dataroot made by `python -m nuscmot.stages.synth`."""
    from nuscmot.stages import synth

    dataroot = tmp_path_factory.mktemp("synth") / "nuscenes-synth"
    params = {"cfg": tiny_config["synth"], "version": tiny_config["dataset"]["version"]}
    synth.main(["--params", json.dumps(params), "--dataroot", str(dataroot)])
    return dataroot


@pytest.fixture(scope="session")
def tiny_converted(tmp_path_factory, tiny_config, tiny_dataroot) -> SimpleNamespace:
    """`python -m nuscmot.stages.convert` run on the tiny dataroot; paths of every output."""
    from nuscmot.stages import convert

    out = tmp_path_factory.mktemp("converted")
    paths = SimpleNamespace(
        dataroot=tiny_dataroot,
        version=tiny_config["dataset"]["version"],
        coco_train=out / "coco" / "train.json",
        coco_val=out / "coco" / "val.json",
        coco_test=out / "coco" / "test_front.json",
        mot_dir=out / "mot" / "test",
        seqmap=out / "mot" / "seqmaps" / "test.txt",
        traj_train=out / "trajectories" / "train.parquet",
        traj_val=out / "trajectories" / "val.parquet",
        splits=out / "splits.json",
        mot_tune=out / "mot" / "tune",
        seqmap_tune=out / "mot" / "seqmaps" / "tune.txt",
    )
    params = {"cfg": tiny_config["convert"], "version": paths.version}
    convert.main(
        [
            "--params", json.dumps(params),
            "--dataroot", str(tiny_dataroot),
            "--coco-train", str(paths.coco_train),
            "--coco-val", str(paths.coco_val),
            "--coco-test", str(paths.coco_test),
            "--mot-dir", str(paths.mot_dir),
            "--seqmap", str(paths.seqmap),
            "--traj-train", str(paths.traj_train),
            "--traj-val", str(paths.traj_val),
            "--splits", str(paths.splits),
            "--tune-mot-dir", str(paths.mot_tune),
            "--tune-seqmap", str(paths.seqmap_tune),
        ]
    )
    return paths
