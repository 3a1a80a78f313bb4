"""The demo detector's pretraining world: disjoint from the demo's by construction, and its
checkpoint is the one the config names (sha256)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
import yaml

from nuscmot.common.errors import InputError
from nuscmot.synthetic import generate, synth_config
from nuscmot.synthetic.config import check_disjoint_worlds
from nuscmot.synthetic.tables import TABLES

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
VERSION = "v1.0-synth"
SHARED_VOCABULARY = ("category", "attribute", "visibility", "sensor")  # the same in every nuScenes release
TINY = {"frames_per_scene": 3, "image_width": 160, "image_height": 90, "min_objects": 4, "max_objects": 6}


def test_config_worlds_are_disjoint():
    check_disjoint_worlds(synth_config(CONFIG["synth"]), synth_config(CONFIG["pretrain"]["synth"]))


@pytest.mark.parametrize(
    "change, match",
    [({"seed": 0}, "seed 0 is the demo's own"), ({"scene_offset": 10}, "overlap the demo's")],
)
def test_colliding_worlds_are_refused(change, match):
    demo = synth_config({"seed": 0, "train_scenes": 14, "val_scenes": 12})
    other = synth_config({"seed": 1000, "scene_offset": 1000, "train_scenes": 64, "val_scenes": 1, **change})
    with pytest.raises(InputError, match=match):
        check_disjoint_worlds(demo, other)


def _keys(root: Path) -> dict[str, set[str]]:
    """Every token of every per-dataset table, scene names and image file names."""
    tables = {t: json.loads((root / VERSION / f"{t}.json").read_text()) for t in TABLES}
    out = {t: {r["token"] for r in rows} for t, rows in tables.items() if t not in SHARED_VOCABULARY}
    out["scene names"] = {r["name"] for r in tables["scene"]}
    out["instance tokens of annotations"] = {r["instance_token"] for r in tables["sample_annotation"]}
    out["image files"] = {r["filename"] for r in tables["sample_data"]}
    out["jpeg bytes"] = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (root / "samples").rglob("*.jpg")}
    return out


@pytest.mark.slow
def test_no_scene_instance_or_image_token_overlaps(tmp_path):
    """Both worlds as config.yaml defines them (seed, scene numbering), at a tiny size."""
    demo = synth_config({**CONFIG["synth"], **TINY, "train_scenes": 2, "val_scenes": 1})
    pre = synth_config({**CONFIG["pretrain"]["synth"], **TINY, "train_scenes": 2, "val_scenes": 1})
    generate(demo, VERSION, tmp_path / "demo", workers=1)
    generate(pre, VERSION, tmp_path / "pretrain", workers=1)
    a, b = _keys(tmp_path / "demo"), _keys(tmp_path / "pretrain")
    for kind in a:
        assert a[kind] and b[kind], kind
        assert not a[kind] & b[kind], f"{kind} shared by the demo and the pretraining world"
    assert min(int(n.split("-")[1]) for n in b["scene names"]) > CONFIG["pretrain"]["synth"]["scene_offset"]


def test_pretrained_digest_is_checked(tmp_path):
    from nuscmot.detector.trainer import check_digest

    path = tmp_path / "w.pth"
    torch.save({"model": {"w": torch.zeros(2)}}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    check_digest(path, digest)
    check_digest(path, "")  # no digest configured: nothing to check
    with pytest.raises(InputError, match="does not match detector.pretrained_sha256"):
        check_digest(path, "0" * 64)


def test_committed_checkpoint_matches_the_config():
    """The demo's pretrained checkpoint is committed, YOLOX's format, <= 10 MB, sha256 as configured."""
    det = CONFIG["detector"]
    if not det.get("pretrained_sha256"):
        pytest.skip("config.yaml names no pretrained checkpoint digest")
    path = ROOT / det["pretrained"]
    assert path.is_file(), path
    assert path.stat().st_size <= 10 * 2**20
    assert hashlib.sha256(path.read_bytes()).hexdigest() == det["pretrained_sha256"]
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert isinstance(ckpt["model"], dict) and ckpt["model_config"]["model"] == det["model"]
