"""The convert stage end to end on the tiny synthetic dataset (fixtures in tests/conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow.parquet as pq
import pytest
from pycocotools.coco import COCO

from nuscmot.stages import convert as convert_cli
from nuscmot.common.errors import InputError
from nuscmot.common.mot import read_image_list, read_mot, read_seqinfo, read_seqmap
from nuscmot.data.cam_pose import CameraPose
from nuscmot.data.classes import CLASSES, build_category_lookup
from nuscmot.data.coco import coco_dataset
from nuscmot.data.convert import SceneJob, extract_images, load_nuscenes
from nuscmot.data.records import ImageBoxes
from nuscmot.data.mot_gt import scene_gt_rows, stable_track_ids, write_mot_dir
from support.reference import devkit_boxes_2d
from nuscmot.data.trajectories import trajectory_table

OUTPUT_NAMES = ("coco_train", "coco_val", "coco_test", "mot_dir", "seqmap", "traj_train", "traj_val", "splits")


def run_convert(cfg: dict, version: str, dataroot: Path, out: Path) -> SimpleNamespace:
    paths = SimpleNamespace(
        coco_train=out / "coco" / "train.json",
        coco_val=out / "coco" / "val.json",
        coco_test=out / "coco" / "test_front.json",
        mot_dir=out / "mot" / "test",
        seqmap=out / "mot" / "seqmaps" / "test.txt",
        traj_train=out / "trajectories" / "train.parquet",
        traj_val=out / "trajectories" / "val.parquet",
        splits=out / "splits.json",
    )
    argv = ["--params", json.dumps({"cfg": cfg, "version": version}), "--dataroot", str(dataroot)]
    for name in OUTPUT_NAMES:
        argv += [f"--{name.replace('_', '-')}", str(getattr(paths, name))]
    convert_cli.main(argv)
    return paths


def load(path: Path):
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="module")
def nusc(tiny_converted):
    return load_nuscenes(tiny_converted.dataroot, tiny_converted.version)


@pytest.fixture(scope="module")
def splits(tiny_converted):
    return load(tiny_converted.splits)


# ---------------------------------------------------------------------------------------
# Outputs


def test_coco_files_load_and_carry_the_contract_fields(tiny_converted, tiny_config):
    for name in ("coco_train", "coco_val", "coco_test"):
        path = getattr(tiny_converted, name)
        coco = COCO(str(path))
        data = load(path)
        assert [(c["id"], c["name"]) for c in data["categories"]] == list(enumerate(CLASSES, start=1))
        assert [im["id"] for im in data["images"]] == list(range(1, len(data["images"]) + 1))
        assert [a["id"] for a in data["annotations"]] == list(range(1, len(data["annotations"]) + 1))
        keys = [(im["scene_name"], im["camera"], im["timestamp"]) for im in data["images"]]
        assert keys == sorted(keys)
        for im in data["images"]:
            assert {"file_name", "width", "height", "scene_token", "scene_name", "sample_data_token", "camera", "frame_index"} <= set(im)
            assert (tiny_converted.dataroot / im["file_name"]).is_file()
            assert im["file_name"].startswith(f"samples/{im['camera']}/")
        for a in data["annotations"]:
            assert 1 <= a["category_id"] <= 7 and a["iscrowd"] == 0
            assert a["visibility"] >= tiny_config["convert"]["min_visibility"]
            x, y, w, h = a["bbox"]
            im = coco.imgs[a["image_id"]]
            assert w >= tiny_config["convert"]["min_box_size"] and h >= tiny_config["convert"]["min_box_size"]
            assert x >= 0 and y >= 0 and x + w <= im["width"] + 1e-3 and y + h <= im["height"] + 1e-3
            assert a["area"] == pytest.approx(w * h, abs=1e-2)
            assert isinstance(a["instance_token"], str) and a["instance_token"]
        if name == "coco_train":
            assert data["annotations"], "the detector train set has no annotations"
        # Frame indices are 0-based keyframe positions, consecutive per (scene, camera).
        per_seq: dict = {}
        for im in data["images"]:
            per_seq.setdefault((im["scene_name"], im["camera"]), []).append(im["frame_index"])
        assert all(v == list(range(len(v))) for v in per_seq.values())


def test_splits_are_disjoint_and_follow_the_official_lists(tiny_converted, splits, tiny_config):
    official = load(tiny_converted.dataroot / tiny_converted.version / "splits.json")
    train, val, test = (set(splits[k]) for k in ("detector_train", "detector_val", "test"))
    assert not train & val and not train & test and not val & test
    assert train | val == set(official["train"]) and test == set(official["val"])
    assert train and val and test
    cams = set(tiny_config["convert"]["cameras"])
    for name, scenes, cameras in (("coco_train", train, cams), ("coco_val", val, cams), ("coco_test", test, {"CAM_FRONT"})):
        images = load(getattr(tiny_converted, name))["images"]
        assert {im["scene_name"] for im in images} == scenes
        assert {im["camera"] for im in images} == cameras


def test_mot_ground_truth(tiny_converted, splits, tiny_config):
    test_scenes = sorted(splits["test"])
    assert read_seqmap(tiny_converted.seqmap) == test_scenes
    assert sorted(p.name for p in tiny_converted.mot_dir.iterdir()) == test_scenes
    coco_test = load(tiny_converted.coco_test)
    min_vis = tiny_config["convert"]["min_visibility"]
    n_rows = 0
    for scene in test_scenes:
        seq = tiny_converted.mot_dir / scene
        info = read_seqinfo(seq / "seqinfo.ini")
        images = read_image_list(seq / "img1.txt")
        coco_imgs = sorted((im for im in coco_test["images"] if im["scene_name"] == scene), key=lambda im: im["frame_index"])
        assert info.frame_rate == 2 and info.length == len(images) == len(coco_imgs)
        assert images == [im["file_name"] for im in coco_imgs]
        assert (info.width, info.height) == (coco_imgs[0]["width"], coco_imgs[0]["height"])
        gt = read_mot(seq / "gt" / "gt.txt", "gt")
        n_rows += len(gt)
        if not len(gt):
            assert not [im for im in coco_imgs if any(a["image_id"] == im["id"] for a in coco_test["annotations"])]
            continue
        assert gt[:, 0].min() >= 1 and gt[:, 0].max() <= info.length
        assert set(gt[:, 6]) == {1} and set(gt[:, 7]) <= set(range(1, 8)) and set(gt[:, 8]) <= {1, 2, 3, 4}
        # Stable ids: 1..N in order of first appearance.
        firsts = [int(i) for i in dict.fromkeys(gt[np.lexsort((gt[:, 1], gt[:, 0])), 1])]
        assert sorted(firsts) == list(range(1, len(firsts) + 1))
        # Same boxes as the COCO test set once its visibility filter is applied; one id per instance.
        id_of: dict[str, int] = {}
        by_frame = {(int(r[0]), int(r[1])): r for r in gt}
        n_coco = 0
        for im in coco_imgs:
            for a in (a for a in coco_test["annotations"] if a["image_id"] == im["id"]):
                n_coco += 1
                frame = im["frame_index"] + 1
                tid = id_of.setdefault(a["instance_token"], next(int(r[1]) for k, r in by_frame.items() if k[0] == frame and np.allclose(r[2:6], a["bbox"], atol=0.01)))
                row = by_frame[(frame, tid)]
                assert np.allclose(row[2:6], a["bbox"], atol=0.01) and row[7] == a["category_id"] and row[8] == a["visibility"]
        assert len(set(id_of.values())) == len(id_of)
        assert n_coco == int((gt[:, 8] >= min_vis).sum())
    assert n_rows, "no test scene has ground truth"


def test_stable_track_ids_follow_first_appearance_then_token(tiny_converted, nusc, tiny_config, tmp_path):
    """MOT ids of the busiest (scene, camera) of the tiny set: 1..N by first appearance, then token."""
    cfg = tiny_config["convert"]
    lookup = build_category_lookup(CLASSES, cfg["category_map"], False, (c["name"] for c in nusc.category))
    jobs = [SceneJob(s, tuple(sorted(cfg["cameras"]))) for s in sorted(nusc.scene, key=lambda s: s["name"])]
    images = extract_images(nusc, jobs, lookup, cfg["min_box_size"], dataroot=tiny_converted.dataroot, version=tiny_converted.version)
    counts: dict = {}
    for im in images:
        counts[(im.scene_name, im.camera)] = counts.get((im.scene_name, im.camera), 0) + len(im.instance_tokens)
    scene, camera = max(sorted(counts), key=lambda k: counts[k])
    frames = [im for im in images if (im.scene_name, im.camera) == (scene, camera)]
    write_mot_dir(tmp_path / "mot", tmp_path / "seqmap.txt", frames, [scene])
    gt = read_mot(tmp_path / "mot" / scene / "gt" / "gt.txt", "gt")
    assert len(gt) == counts[(scene, camera)] > 0

    expected: dict[str, int] = {}
    for im in frames:
        for tok in sorted(im.instance_tokens):
            expected.setdefault(tok, len(expected) + 1)
    got: dict[str, int] = {}
    for im in frames:
        rows = gt[gt[:, 0] == im.frame_index + 1]
        assert len(rows) == len(im.instance_tokens)
        for k, tok in enumerate(im.instance_tokens):
            x1, y1, x2, y2 = im.xyxy[k]
            match = rows[np.all(np.abs(rows[:, 2:6] - [x1, y1, x2 - x1, y2 - y1]) < 0.006, axis=1)]
            assert len(match) == 1
            assert got.setdefault(tok, int(match[0, 1])) == int(match[0, 1])
    assert got == expected
    # A track that leaves the image and comes back keeps its id (a gap in its frames, not a new id).
    assert len(set(gt[:, 1])) == len(expected)


def test_trajectories(tiny_converted, splits):
    for name, scenes, coco_name in (("traj_train", splits["detector_train"], "coco_train"), ("traj_val", splits["detector_val"], "coco_val")):
        table = pq.read_table(getattr(tiny_converted, name))
        assert table.schema.names == ["track_id", "scene_name", "camera", "instance_token", "frame", "timestamp",
                                      "img_w", "img_h", "x", "y", "w", "h", "class_id", "visibility"]
        df = table.to_pandas()
        assert str(df["track_id"].dtype) == "int64" and str(df["frame"].dtype) == "int64"
        assert len(df) and set(df["scene_name"]) <= set(scenes)
        keys = sorted(set(zip(df["scene_name"], df["camera"], df["instance_token"])))
        expected_ids = {k: i + 1 for i, k in enumerate(keys)}
        assert [expected_ids[k] for k in zip(df["scene_name"], df["camera"], df["instance_token"])] == df["track_id"].tolist()
        assert not df.duplicated(["track_id", "frame"]).any()
        assert (df["frame"] >= 1).all() and df["class_id"].between(1, 7).all() and df["visibility"].between(1, 4).all()
        assert list(zip(df["track_id"], df["frame"])) == sorted(zip(df["track_id"], df["frame"]))
        # Every COCO box of these scenes is a trajectory row (COCO only adds the visibility filter).
        coco = load(getattr(tiny_converted, coco_name))
        imgs = {im["id"]: im for im in coco["images"]}
        rows = {(r.scene_name, r.camera, r.instance_token, r.frame): (r.x, r.y, r.w, r.h) for r in df.itertuples()}
        for a in coco["annotations"]:
            im = imgs[a["image_id"]]
            box = rows[(im["scene_name"], im["camera"], a["instance_token"], im["frame_index"] + 1)]
            assert np.allclose(box, a["bbox"], atol=1e-3)
        assert len(rows) >= len(coco["annotations"])


def test_coco_boxes_match_the_devkit_per_box_reference(tiny_converted, nusc, tiny_config):
    """Round trip: the COCO boxes are the devkit script's boxes (same filters) within 0.5 px."""
    cfg = tiny_config["convert"]
    min_size, min_vis = cfg["min_box_size"], cfg["min_visibility"]
    lookup = build_category_lookup(CLASSES, cfg["category_map"], False, (c["name"] for c in nusc.category))
    n_checked = 0
    for name in ("coco_train", "coco_val", "coco_test"):
        coco = load(getattr(tiny_converted, name))
        anns_of: dict[int, dict] = {}
        for a in coco["annotations"]:
            anns_of.setdefault(a["image_id"], {})[a["instance_token"]] = a
        for im in coco["images"]:
            sd = nusc.get("sample_data", im["sample_data_token"])
            sample = nusc.get("sample", sd["sample_token"])
            recs = [nusc.get("sample_annotation", t) for t in sample["anns"]]
            recs = [r for r in recs if r["category_name"] in lookup and int(r["visibility_token"]) >= min_vis]
            ref = devkit_boxes_2d(nusc, sd["token"], [r["token"] for r in recs])
            expected, borderline = {}, set()
            for r in recs:
                box = ref[r["token"]]
                if box is None:
                    continue
                side = min(box[2] - box[0], box[3] - box[1])
                if abs(side - min_size) < 1e-3:
                    borderline.add(r["instance_token"])  # on the size threshold: either way is fine
                elif side >= min_size and side > 0:
                    expected[r["instance_token"]] = (box, lookup[r["category_name"]])
            got = anns_of.get(im["id"], {})
            assert set(expected) <= set(got) <= set(expected) | borderline
            for tok, (box, cls) in expected.items():
                x, y, w, h = got[tok]["bbox"]
                assert np.abs(np.array([x, y, x + w, y + h]) - np.array(box)).max() <= 0.5
                assert got[tok]["category_id"] == cls
                n_checked += 1
    assert n_checked == sum(len(load(getattr(tiny_converted, n))["annotations"]) for n in ("coco_train", "coco_val", "coco_test"))
    assert n_checked


def test_min_visibility_applies_to_coco_only(tiny_converted, nusc, tiny_config):
    cfg = tiny_config["convert"]
    lookup = build_category_lookup(CLASSES, cfg["category_map"], False, (c["name"] for c in nusc.category))
    jobs = [SceneJob(s, tuple(sorted(cfg["cameras"]))) for s in sorted(nusc.scene, key=lambda s: s["name"])]
    frames = extract_images(nusc, jobs, lookup, 0.0, dataroot=tiny_converted.dataroot, version=tiny_converted.version)
    levels = set(np.concatenate([f.visibility for f in frames]).tolist())
    assert len(levels) >= 2, f"the tiny set should show several visibility levels, got {levels}"
    counts = []
    for level in (0, 1, 2, 3, 4):
        coco = coco_dataset(frames, CLASSES, level, {})
        assert all(a["visibility"] >= level for a in coco["annotations"])
        assert len(coco["annotations"]) == sum(int((f.visibility >= level).sum()) for f in frames)
        counts.append(len(coco["annotations"]))
    assert counts[0] == counts[1] > counts[4]


def test_conversion_is_deterministic(tiny_converted, tiny_config, tmp_path):
    again = run_convert(tiny_config["convert"], tiny_converted.version, tiny_converted.dataroot, tmp_path)

    def files(root: Path, base: Path) -> dict[str, bytes]:
        return {str(p.relative_to(base)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    for name in OUTPUT_NAMES:
        a, b = Path(getattr(tiny_converted, name)), Path(getattr(again, name))
        if a.is_dir():
            fa, fb = files(a, a), files(b, b)
            assert fa and fa == fb
        else:
            assert a.read_bytes() == b.read_bytes(), name


# ---------------------------------------------------------------------------------------
# Bad input: one-line InputError naming the file, nothing left behind


@pytest.fixture()
def broken_root(tiny_dataroot, tmp_path) -> Path:
    """A copy of the tiny dataroot's tables (images linked, not copied) to corrupt."""
    root = tmp_path / "root"
    root.mkdir()
    for entry in tiny_dataroot.iterdir():
        if entry.is_dir() and (entry / "scene.json").exists():
            shutil.copytree(entry, root / entry.name)
        else:
            os.symlink(entry, root / entry.name)
    return root


def expect_input_error(tiny_config, version, dataroot, tmp_path, match, cfg=None) -> InputError:
    out = tmp_path / "out"
    with pytest.raises(InputError, match=match) as err:
        run_convert(cfg or tiny_config["convert"], version, dataroot, out)
    assert "\n" not in str(err.value)
    left = [p for p in out.rglob("*")] if out.exists() else []
    assert not [p for p in left if p.is_file()], f"partial output left behind: {left}"
    return err.value


def test_missing_dataroot(tiny_config, tiny_converted, tmp_path):
    err = expect_input_error(tiny_config, tiny_converted.version, tmp_path / "nope", tmp_path, "dataroot does not exist")
    assert err.path == str(tmp_path / "nope")


def test_missing_version_folder(tiny_config, tiny_converted, tmp_path):
    expect_input_error(tiny_config, "v1.0-absent", tiny_converted.dataroot, tmp_path, r"v1\.0-absent: missing version folder")


@pytest.mark.parametrize("table", ["category", "scene", "sample_annotation"])
def test_corrupt_table_json_names_the_file(tiny_config, tiny_converted, broken_root, tmp_path, table):
    path = broken_root / tiny_converted.version / f"{table}.json"
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # truncated
    err = expect_input_error(tiny_config, tiny_converted.version, broken_root, tmp_path, "corrupt table JSON")
    assert err.path == str(path)


def test_missing_table_file(tiny_config, tiny_converted, broken_root, tmp_path):
    path = broken_root / tiny_converted.version / "ego_pose.json"
    path.unlink()
    err = expect_input_error(tiny_config, tiny_converted.version, broken_root, tmp_path, "missing nuScenes table file")
    assert err.path == str(path)


def test_missing_image(tiny_config, tiny_converted, broken_root, tmp_path, splits):
    path = broken_root / tiny_converted.version / "sample_data.json"
    records = json.loads(path.read_text())
    rec = next(r for r in records if r["is_key_frame"] and "CAM_FRONT/" in r["filename"])
    rec["filename"] = rec["filename"].replace(".jpg", "_gone.jpg")
    path.write_text(json.dumps(records))
    err = expect_input_error(tiny_config, tiny_converted.version, broken_root, tmp_path, "missing image of sample_data")
    assert err.path == str(broken_root / rec["filename"])


def test_truncated_image(tiny_config, tiny_converted, broken_root, tmp_path):
    """A JPEG cut short (libjpeg would only warn later, with no file name) stops convert."""
    path = broken_root / tiny_converted.version / "sample_data.json"
    records = json.loads(path.read_text())
    rec = next(r for r in records if r["is_key_frame"] and "CAM_FRONT/" in r["filename"])
    cut = broken_root / "cut" / rec["filename"]
    cut.parent.mkdir(parents=True)
    cut.write_bytes((broken_root / rec["filename"]).read_bytes()[:3000])
    rec["filename"] = f"cut/{rec['filename']}"
    path.write_text(json.dumps(records))
    err = expect_input_error(tiny_config, tiny_converted.version, broken_root, tmp_path,
                             r"truncated JPEG \(no end-of-image marker FF D9\), image of sample_data")
    assert err.path == str(cut)


def test_missing_splits_file(tiny_config, tiny_converted, broken_root, tmp_path):
    (broken_root / tiny_converted.version / "splits.json").unlink()
    expect_input_error(tiny_config, tiny_converted.version, broken_root, tmp_path, "missing splits file")


@pytest.mark.parametrize(
    ("category_map", "key"),
    [
        ({"van": ["vehicle.car"]}, r"\[convert\.category_map\.van\]"),
        ({"car": ["vehicle.flying_car"]}, r"category\.json \[convert\.category_map\.car\]"),
    ],
)
def test_bad_category_map(tiny_config, tiny_converted, tmp_path, category_map, key):
    cfg = {**tiny_config["convert"], "category_map": {**tiny_config["convert"]["category_map"], **category_map}}
    expect_input_error(tiny_config, tiny_converted.version, tiny_converted.dataroot, tmp_path, key, cfg=cfg)


def test_unknown_config_key(tiny_config, tiny_converted, tmp_path):
    cfg = {**tiny_config["convert"], "min_visiblity": 2}
    expect_input_error(tiny_config, tiny_converted.version, tiny_converted.dataroot, tmp_path, "min_visiblity", cfg=cfg)


def test_cli_exits_2_with_one_line(tiny_config, tmp_path):
    params = json.dumps({"cfg": tiny_config["convert"], "version": "v1.0-synth"})
    args = [sys.executable, "-m", "nuscmot.stages.convert", "--params", params, "--dataroot", str(tmp_path / "missing")]
    for name in OUTPUT_NAMES:
        args += [f"--{name.replace('_', '-')}", str(tmp_path / "out" / name)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert lines == [f"error: {tmp_path / 'missing'}: dataroot does not exist (or is not a folder)"]
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------
# Id rules on hand-made frames (independent of the synthetic data)


def _frame(frame_index: int, tokens: list[str], camera: str = "CAM_FRONT") -> ImageBoxes:
    n = len(tokens)
    boxes = np.array([[10.0 * k, 5.0, 10.0 * k + 8.0, 20.0] for k in range(n)]).reshape(-1, 4)
    return ImageBoxes(
        scene_name="scene-x", scene_token="st", camera=camera, frame_index=frame_index,
        sample_data_token=f"sd{camera}{frame_index}", timestamp=1000 + frame_index, file_name=f"samples/{camera}/{frame_index}.jpg",
        width=100, height=50, xyxy=boxes, class_ids=np.ones(n, np.int64), visibility=np.full(n, 4, np.int64),
        instance_tokens=tokens, annotation_tokens=[f"ann{frame_index}{t}" for t in tokens],
        pose=CameraPose((1.0, 0.0, 0.0, 0.0), (float(frame_index), 0.0, 0.0), ((50.0, 0.0, 50.0), (0.0, 50.0, 25.0), (0.0, 0.0, 1.0))),
    )


def test_ids_by_first_appearance_then_token_and_gaps_keep_ids(tmp_path):
    frames = [_frame(0, ["b", "a"]), _frame(1, ["c"]), _frame(2, ["a", "d"]), _frame(3, [])]
    assert stable_track_ids(frames) == {"a": 1, "b": 2, "c": 3, "d": 4}
    rows = scene_gt_rows(frames)
    assert [(int(r[0]), int(r[1])) for r in rows] == [(1, 2), (1, 1), (2, 3), (3, 1), (3, 4)]
    write_mot_dir(tmp_path / "mot", tmp_path / "seqmap.txt", frames, ["scene-x"])
    assert read_seqinfo(tmp_path / "mot" / "scene-x" / "seqinfo.ini").length == 4
    assert read_image_list(tmp_path / "mot" / "scene-x" / "img1.txt") == [f"samples/CAM_FRONT/{i}.jpg" for i in range(4)]

    table = trajectory_table(frames + [_frame(0, ["a"], camera="CAM_BACK")]).to_pandas()
    # Tracks are per (scene, camera, instance): sorted keys -> ids 1..N.
    assert table.groupby("track_id")["instance_token"].first().to_dict() == {1: "a", 2: "a", 3: "b", 4: "c", 5: "d"}
    assert table[(table.camera == "CAM_FRONT") & (table.instance_token == "a")]["frame"].tolist() == [1, 3]
