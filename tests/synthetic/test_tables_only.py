"""The tables-only trainval-scale set (benchmarks/convert_scale.py), made tiny: it loads in the
devkit, has the official scene names, and the real convert stage splits it as official data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from nuscenes.utils.splits import create_splits_scenes

from nuscmot.data.devkit import drop_sweeps, load_nuscenes
from nuscmot.stages import convert as convert_cli
from nuscmot.synthetic.tables_only import TablesOnlyConfig, scene_specs, scene_tables, write_tables_only
from nuscmot.synthetic.tables_world import CAMERAS, SENSORS

VERSION = "v1.0-trainval"
TINY = TablesOnlyConfig(samples_per_scene=2, instances_per_scene=4, sweeps=True)


@pytest.fixture(scope="module")
def tables_only(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("tables-only") / "nuscenes"
    return root, write_tables_only(TINY, root, VERSION)


@pytest.fixture(scope="module")
def nusc(tables_only):
    return load_nuscenes(tables_only[0], VERSION)


def test_the_devkit_loads_it_with_official_names_and_consistent_tables(tables_only, nusc):
    root, counts = tables_only
    official = create_splits_scenes(verbose=False)
    assert sorted(s["name"] for s in nusc.scene) == sorted(official["train"] + official["val"])
    assert counts["scene"] == 850 and counts["sample"] == 850 * 2 and counts["log"] == 68
    assert counts["sample_data"] == counts["ego_pose"] > counts["sample"] * len(SENSORS)  # sweeps too
    for sample in nusc.sample[:50]:
        assert set(sample["data"]) == {s[0] for s in SENSORS}
        assert len(sample["anns"]) >= 1
        for channel, _, *_ in CAMERAS:
            sd = nusc.get("sample_data", sample["data"][channel])
            path = root / sd["filename"]
            assert path.is_file() and path.stat().st_size == 0 and sd["is_key_frame"]
    sweeps = [sd for sd in nusc.sample_data if not sd["is_key_frame"]]
    assert sweeps and all(sd["filename"].startswith("sweeps/") for sd in sweeps)
    assert not any((root / sd["filename"]).exists() for sd in sweeps[:100])
    for inst in nusc.instance[:50]:  # each instance's run is one linked chain of annotations
        chain, token = [], inst["first_annotation_token"]
        while token:
            chain.append(nusc.get("sample_annotation", token))
            token = chain[-1]["next"]
        assert len(chain) == inst["nbr_annotations"] and chain[-1]["token"] == inst["last_annotation_token"]
        assert {a["instance_token"] for a in chain} == {inst["token"]}


def test_scene_records_are_deterministic():
    specs, _ = scene_specs(TINY, ["scene-0001", "scene-0002"])
    a, files_a = scene_tables(TINY, specs[1])
    b, files_b = scene_tables(TINY, specs[1])
    assert json.dumps(a) == json.dumps(b) and files_a == files_b


def test_convert_splits_it_as_official_data_with_boxes_in_view(tables_only, tmp_path, repo_root):
    root, _ = tables_only
    cfg = yaml.safe_load((repo_root / "config.yaml").read_text())["convert"]
    out = tmp_path / "out"
    names = {"coco-train": "train.json", "coco-val": "val.json", "coco-test": "test.json", "mot-dir": "mot",
             "seqmap": "seqmap.txt", "traj-train": "train.parquet", "traj-val": "val.parquet", "splits": "splits.json"}
    argv = ["--params", json.dumps({"cfg": cfg, "version": VERSION}), "--dataroot", str(root)]
    for flag, name in names.items():
        argv += [f"--{flag}", str(out / name)]
    summary = convert_cli.main(argv)

    official = create_splits_scenes(verbose=False)
    splits = json.loads((out / "splits.json").read_text())
    assert splits["test"] == sorted(official["val"])
    assert sorted(splits["detector_train"] + splits["detector_val"]) == sorted(official["train"])
    assert len(splits["detector_val"]) == round(cfg["detector_val_fraction"] * 700)
    assert summary["images"] == {"train": 2 * 6 * len(splits["detector_train"]),
                                 "val": 2 * 6 * len(splits["detector_val"]), "test": 2 * 150}
    coco = json.loads((out / "train.json").read_text())
    assert len(coco["annotations"]) > len(coco["images"]) // 4  # objects around the ego land in the cameras
    boxes = np.array([a["bbox"] for a in coco["annotations"]])
    assert (boxes[:, 2:] >= cfg["min_box_size"]).all() and (boxes[:, :2] >= 0).all()
    assert (boxes[:, 0] + boxes[:, 2] <= 1600 + 1e-6).all() and (boxes[:, 1] + boxes[:, 3] <= 900 + 1e-6).all()
    assert len((out / "seqmap.txt").read_text().split()) - 1 == 150


def test_convert_frees_the_sweep_rows_and_keeps_every_keyframe(tables_only):
    nusc = load_nuscenes(tables_only[0], VERSION)  # its own copy: rows are freed in place
    n_sweeps = sum(not sd["is_key_frame"] for sd in nusc.sample_data)
    assert drop_sweeps(nusc) == 2 * n_sweeps  # the sweep's sample_data row and its ego pose
    assert sum(sd is not None for sd in nusc.sample_data) == len(nusc.sample) * len(SENSORS)
    for sample in nusc.sample:
        for token in sample["data"].values():
            sd = nusc.get("sample_data", token)
            assert sd["is_key_frame"] and nusc.get("ego_pose", sd["ego_pose_token"])["timestamp"] == sd["timestamp"]
