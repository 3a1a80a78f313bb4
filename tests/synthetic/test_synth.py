"""The synthetic nuScenes-format generator: devkit compatibility, integrity, determinism, rendering."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from nuscmot.common.errors import InputError
from nuscmot.synthetic import generate, synth_config
from nuscmot.synthetic.agents import ANNOTATION_RANGE
from nuscmot.synthetic.calibration import CHANNELS
from nuscmot.synthetic.tables import TABLES
from nuscmot.synthetic.transforms import invert_pose, matrix_quaternion, pose_matrix, quaternion_matrix, rot_z

VERSION = "v1.0-synth"
TOKEN = re.compile(r"^[0-9a-f]{32}$")
TARGETS = ("vehicle.car", "vehicle.truck", "vehicle.bus.", "vehicle.trailer", "human.pedestrian.",
           "vehicle.motorcycle", "vehicle.bicycle")
SMALL = {"train_scenes": 1, "val_scenes": 1, "frames_per_scene": 4, "image_width": 160, "image_height": 90,
         "jpeg_quality": 85, "min_objects": 10, "max_objects": 14, "distractor_fraction": 0.2}


def _tables(root: Path) -> dict[str, list[dict]]:
    return {name: json.loads((root / VERSION / f"{name}.json").read_text()) for name in TABLES}


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def nusc(tiny_dataroot):
    from nuscenes.nuscenes import NuScenes

    return NuScenes(version=VERSION, dataroot=str(tiny_dataroot), verbose=False)


@pytest.fixture(scope="module")
def small_pair(tmp_path_factory):
    """The SMALL config generated twice (1 and 2 workers), with id masks, and once with another seed.

    About 5 s on 2 free cores: the tests using it are marked slow.
    """
    base = tmp_path_factory.mktemp("small")
    a, b, c = base / "a", base / "b", base / "c"
    generate(synth_config(SMALL), VERSION, a, workers=1, id_masks=True)
    generate(synth_config(SMALL), VERSION, b, workers=2, id_masks=True)
    generate(synth_config({**SMALL, "seed": 1}), VERSION, c, workers=1)
    return a, b, c


# --- devkit -------------------------------------------------------------------------------------
def test_devkit_loads_and_returns_boxes(nusc, tiny_config):
    from nuscenes.utils.geometry_utils import BoxVisibility

    cfg = tiny_config["synth"]
    assert len(nusc.scene) == cfg["train_scenes"] + cfg["val_scenes"]
    assert len(nusc.sample) == len(nusc.scene) * cfg["frames_per_scene"]
    assert len(nusc.sample_data) == len(nusc.sample) * len(CHANNELS)
    n_boxes = 0
    for sample in nusc.sample:
        assert set(sample["data"]) == set(CHANNELS)
        for channel, sd_token in sample["data"].items():
            path, boxes, k = nusc.get_sample_data(sd_token, box_vis_level=BoxVisibility.ANY)
            sd = nusc.get("sample_data", sd_token)
            assert Path(path).is_file() and sd["fileformat"] == "jpg" and sd["is_key_frame"]
            assert (sd["width"], sd["height"]) == (cfg["image_width"], cfg["image_height"])
            # intrinsics are nuScenes' (fx ~ 1266 px at 1600 px; CAM_BACK ~ 809 px) scaled
            fx_native = k[0, 0] * 1600 / sd["width"]
            assert (790 < fx_native < 830) if channel == "CAM_BACK" else (1240 < fx_native < 1290)
            n_boxes += len(boxes)
    assert n_boxes > 50


def test_box_in_image_agrees_with_our_projection(nusc):
    """Our camera math (ego_pose + calibrated_sensor + intrinsics) against the devkit's for every box."""
    from nuscenes.utils.geometry_utils import BoxVisibility, box_in_image, view_points
    from pyquaternion import Quaternion

    checked = 0
    for sd in nusc.sample_data[::5]:
        cs = nusc.get("calibrated_sensor", sd["calibrated_sensor_token"])
        pose = nusc.get("ego_pose", sd["ego_pose_token"])
        g2c = invert_pose(pose_matrix(cs["translation"], cs["rotation"])) @ invert_pose(
            pose_matrix(pose["translation"], pose["rotation"]))
        k = np.array(cs["camera_intrinsic"])
        _, devkit_boxes, _ = nusc.get_sample_data(sd["token"], box_vis_level=BoxVisibility.ANY)
        in_view = {b.token for b in devkit_boxes}
        for ann_token in nusc.get("sample", sd["sample_token"])["anns"]:
            box = nusc.get_box(ann_token)
            corners_g = np.vstack([box.corners(), np.ones(8)])
            ours = (g2c @ corners_g)[:3]
            box.translate(-np.array(pose["translation"]))
            box.rotate(Quaternion(pose["rotation"]).inverse)
            box.translate(-np.array(cs["translation"]))
            box.rotate(Quaternion(cs["rotation"]).inverse)
            np.testing.assert_allclose(ours, box.corners(), atol=1e-6)
            uv = view_points(ours, k, normalize=True)[:2]
            inside = (uv[0] > 0) & (uv[0] < sd["width"]) & (uv[1] > 0) & (uv[1] < sd["height"]) & (ours[2] > 1)
            expect = bool(inside.any() and (ours[2] > 0.1).all())
            assert box_in_image(box, k, (sd["width"], sd["height"]), BoxVisibility.ANY) == expect
            assert (ann_token in in_view) == expect
            checked += 1
    assert checked > 100


# --- table integrity --------------------------------------------------------------------------------
def test_tokens_and_foreign_keys(tiny_dataroot):
    t = _tables(tiny_dataroot)
    index = {name: {r["token"]: r for r in recs} for name, recs in t.items()}
    for name, recs in t.items():
        assert recs, f"{name} is empty"
        assert len(index[name]) == len(recs), f"duplicate tokens in {name}"
        if name != "visibility":
            assert all(TOKEN.match(r["token"]) for r in recs), name
    assert sorted(index["visibility"]) == ["1", "2", "3", "4"]

    def ref(table, token, allow_empty=False):
        if allow_empty and token == "":
            return
        assert token in index[table], f"dangling {table} token {token}"

    for r in t["calibrated_sensor"]:
        ref("sensor", r["sensor_token"])
    for r in t["instance"]:
        ref("category", r["category_token"])
        ref("sample_annotation", r["first_annotation_token"])
        ref("sample_annotation", r["last_annotation_token"])
    for r in t["scene"]:
        ref("log", r["log_token"])
        ref("sample", r["first_sample_token"])
        ref("sample", r["last_sample_token"])
    for r in t["sample"]:
        ref("scene", r["scene_token"])
        ref("sample", r["prev"], True)
        ref("sample", r["next"], True)
    for r in t["sample_data"]:
        ref("sample", r["sample_token"])
        ref("ego_pose", r["ego_pose_token"])
        ref("calibrated_sensor", r["calibrated_sensor_token"])
        ref("sample_data", r["prev"], True)
        ref("sample_data", r["next"], True)
        assert (tiny_dataroot / r["filename"]).is_file()
    for r in t["sample_annotation"]:
        ref("sample", r["sample_token"])
        ref("instance", r["instance_token"])
        ref("visibility", r["visibility_token"])
        for a in r["attribute_tokens"]:
            ref("attribute", a)
        ref("sample_annotation", r["prev"], True)
        ref("sample_annotation", r["next"], True)
    # every log has a map whose mask exists
    covered = {log for m in t["map"] for log in m["log_tokens"]}
    assert covered == set(index["log"])
    for m in t["map"]:
        assert (tiny_dataroot / m["filename"]).is_file()


def test_linked_lists_and_counts(tiny_dataroot):
    t = _tables(tiny_dataroot)
    index = {name: {r["token"]: r for r in recs} for name, recs in t.items()}

    def walk(table, first):
        out, tok = [], first
        while tok:
            out.append(index[table][tok])
            tok = out[-1]["next"]
            if out[-1]["next"]:
                assert index[table][out[-1]["next"]]["prev"] == out[-1]["token"]
        return out

    for scene in t["scene"]:
        samples = walk("sample", scene["first_sample_token"])
        assert len(samples) == scene["nbr_samples"] and samples[-1]["token"] == scene["last_sample_token"]
        times = [s["timestamp"] for s in samples]
        assert all(b - a == 500_000 for a, b in zip(times, times[1:]))   # 2 Hz keyframes, microseconds
    for inst in t["instance"]:
        anns = walk("sample_annotation", inst["first_annotation_token"])
        assert len(anns) == inst["nbr_annotations"] and anns[-1]["token"] == inst["last_annotation_token"]
        assert all(a["instance_token"] == inst["token"] for a in anns)
    by_channel = defaultdict(list)
    for sd in t["sample_data"]:
        by_channel[(index["sample"][sd["sample_token"]]["scene_token"], sd["filename"].split("/")[1])].append(sd)
    for recs in by_channel.values():
        heads = [r for r in recs if r["prev"] == ""]
        assert len(heads) == 1 and len(walk("sample_data", heads[0]["token"])) == len(recs)


def test_map_mask_covers_the_drive(nusc):
    """The semantic prior (devkit MapMask, 0.1 m/px) has the ego on road at every pose, not far off it."""
    scene = nusc.scene[0]
    log = nusc.get("log", scene["log_token"])
    mask = nusc.get("map", log["map_token"])["mask"]
    sample = nusc.get("sample", scene["first_sample_token"])
    xs, ys = [], []
    while True:
        pose = nusc.get("ego_pose", nusc.get("sample_data", sample["data"]["CAM_FRONT"])["ego_pose_token"])
        xs.append(pose["translation"][0])
        ys.append(pose["translation"][1])
        if not sample["next"]:
            break
        sample = nusc.get("sample", sample["next"])
    assert mask.is_on_mask(np.array(xs), np.array(ys)).all()
    # 60 m sideways of the first pose (across the road) is off the road somewhere around
    yaw = 2 * np.arctan2(pose["rotation"][3], pose["rotation"][0])
    ang = np.linspace(0, 2 * np.pi, 36, endpoint=False) + yaw
    assert not mask.is_on_mask(xs[0] + 60 * np.cos(ang), ys[0] + 60 * np.sin(ang)).all()


def test_splits_file(tiny_dataroot, tiny_config):
    splits = json.loads((tiny_dataroot / VERSION / "splits.json").read_text())
    names = [s["name"] for s in _tables(tiny_dataroot)["scene"]]
    assert len(set(names)) == len(names) and all(re.match(r"^scene-\d{4}$", n) for n in names)
    assert len(splits["train"]) == tiny_config["synth"]["train_scenes"]
    assert len(splits["val"]) == tiny_config["synth"]["val_scenes"]
    assert not set(splits["train"]) & set(splits["val"])
    assert set(splits["train"]) | set(splits["val"]) == set(names)


def test_annotations_are_plausible(nusc):
    cats = Counter(a["category_name"] for a in nusc.sample_annotation)
    vis = Counter(a["visibility_token"] for a in nusc.sample_annotation)
    assert any(c.startswith(TARGETS) for c in cats) and any(not c.startswith(TARGETS) for c in cats)
    assert len(vis) >= 3 and vis["4"] > 0 and vis["1"] > 0
    for ann in nusc.sample_annotation:
        assert ann["num_lidar_pts"] > 0 and ann["num_radar_pts"] > 0
        w, l, h = ann["size"]
        assert 0.3 < w < 3.2 and 0.3 < l < 19 and 0.5 < h < 4.2
        q = np.array(ann["rotation"])
        assert abs(np.linalg.norm(q) - 1) < 1e-6 and abs(q[1]) < 1e-9 and abs(q[2]) < 1e-9   # yaw only
        sample = nusc.get("sample", ann["sample_token"])
        pose = nusc.get("ego_pose", nusc.get("sample_data", sample["data"]["CAM_FRONT"])["ego_pose_token"])
        assert np.hypot(*(np.array(ann["translation"][:2]) - pose["translation"][:2])) < ANNOTATION_RANGE + 5
    # objects move between keyframes, some of them far (2 Hz)
    steps = [np.hypot(*np.subtract(nusc.get("sample_annotation", a["next"])["translation"][:2],
                                   a["translation"][:2])) for a in nusc.sample_annotation if a["next"]]
    assert max(steps) > 3.0 and np.median(steps) < 3.0


# --- determinism ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_same_seed_same_bytes(small_pair):
    a, b, _ = small_pair
    da, db = _digest(a), _digest(b)
    assert len(da) > 40 and da == db


@pytest.mark.slow
def test_other_seed_other_data(small_pair):
    a, _, c = small_pair
    da, dc = _digest(a), _digest(c)
    images_a = {k: v for k, v in da.items() if k.endswith(".jpg")}
    assert (a / VERSION / "sample_annotation.json").read_bytes() != (c / VERSION / "sample_annotation.json").read_bytes()
    assert not set(images_a.values()) & set(dc.values())


# --- rendering matches the tables ---------------------------------------------------------------------
@pytest.mark.slow
def test_projected_boxes_cover_rendered_pixels(small_pair):
    """Each object's rendered pixels (id buffer) lie inside the devkit's projection of its box."""
    from nuscenes.nuscenes import NuScenes
    from nuscenes.utils.geometry_utils import BoxVisibility, view_points

    root = small_pair[0]
    nusc = NuScenes(version=VERSION, dataroot=str(root), verbose=False)
    ids = json.loads((root / "id_masks" / "instances.json").read_text())
    checked = 0
    for sd in nusc.sample_data:
        scene = nusc.get("scene", nusc.get("sample", sd["sample_token"])["scene_token"])["name"]
        inst_to_id = {v: int(k) for k, v in ids[scene].items()}
        mask = cv2.imread(str(root / "id_masks" / sd["channel"] / (Path(sd["filename"]).stem + ".png")),
                          cv2.IMREAD_UNCHANGED)
        _, boxes, k = nusc.get_sample_data(sd["token"], box_vis_level=BoxVisibility.ANY)
        for box in boxes:
            ann = nusc.get("sample_annotation", box.token)
            rows, cols = np.nonzero(mask == inst_to_id[ann["instance_token"]])
            if len(rows) < 6:
                continue
            uv = view_points(box.corners(), k, normalize=True)[:2]
            (x0, y0), (x1, y1) = uv.min(1) - 1.0, uv.max(1) + 1.0
            inside = (cols >= x0) & (cols <= x1) & (rows >= y0) & (rows <= y1)
            assert inside.mean() > 0.99, (sd["channel"], ann["token"])
            checked += 1
    assert checked > 20


@pytest.mark.slow
def test_objects_stand_out_in_the_jpeg(small_pair):
    """Object pixels differ from their surroundings in the JPEG (they were really drawn there)."""
    root = small_pair[0]
    ids = json.loads((root / "id_masks" / "instances.json").read_text())
    contrast = []
    for mask_path in sorted((root / "id_masks").glob("CAM_*/*.png")):
        mask = cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED)
        img = cv2.imread(str(root / "samples" / mask_path.parent.name / (mask_path.stem + ".jpg"))).astype(float)
        for v in np.unique(mask):
            obj = mask == v
            if v == 0 or obj.sum() < 30:
                continue
            ring = cv2.dilate(obj.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & (mask == 0)
            if ring.sum() < 10:
                continue
            contrast.append(np.abs(img[obj].mean(0) - img[ring].mean(0)).max())
    assert ids and len(contrast) > 10
    assert np.median(contrast) > 8.0


# --- transforms -------------------------------------------------------------------------------------
def test_quaternion_round_trip():
    from pyquaternion import Quaternion

    rng = np.random.default_rng(0)
    for _ in range(50):
        r = rot_z(rng.uniform(-np.pi, np.pi)) @ np.linalg.qr(rng.normal(size=(3, 3)))[0]
        if np.linalg.det(r) < 0:
            r[:, 0] *= -1
        q = matrix_quaternion(r)
        np.testing.assert_allclose(quaternion_matrix(q), r, atol=1e-9)
        np.testing.assert_allclose(Quaternion(q).rotation_matrix, r, atol=1e-9)


# --- bad input and atomicity --------------------------------------------------------------------------
def test_bad_config_names_the_key(tmp_path):
    from nuscmot.stages import synth

    out = tmp_path / "never"
    params = {"cfg": {**SMALL, "min_objects": 9, "max_objects": 3}, "version": VERSION}
    with pytest.raises(InputError, match="max_objects") as err:
        synth.main(["--params", json.dumps(params), "--dataroot", str(out)])
    assert err.value.key == "max_objects"
    with pytest.raises(InputError, match="colour"):
        synth.main(["--params", json.dumps({"cfg": {"colour": 1}, "version": VERSION}), "--dataroot", str(out)])
    with pytest.raises(InputError, match="frames_per_scene"):
        synth.main(["--params", json.dumps({"cfg": {"frames_per_scene": "8"}}), "--dataroot", str(out)])
    assert not out.exists()


def test_cli_exits_2_with_one_line(tmp_path, capsys):
    from nuscmot.stages import synth
    from nuscmot.common import cli

    params = {"cfg": {"max_objects": 1, "min_objects": 2}, "version": VERSION}
    with pytest.raises(SystemExit) as exc:
        cli.run(synth.main, ["--params", json.dumps(params), "--dataroot", str(tmp_path / "x")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "max_objects" in err[0]


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    import nuscmot.synthetic.scene as scene_mod

    calls = []

    def failing(job):
        if calls:
            raise KeyboardInterrupt
        calls.append(job)
        return original(job)

    original = scene_mod.build_scene
    monkeypatch.setattr(scene_mod, "build_scene", failing)
    out = tmp_path / "data"
    with pytest.raises(KeyboardInterrupt):
        generate(synth_config(SMALL), VERSION, out, workers=1)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_lighting_mix_is_configurable():
    """``synth.lighting`` weights pick each scene's lighting; a single kind gives only that kind."""
    from nuscmot.synthetic.background import make_lighting
    from nuscmot.synthetic.config import LightingMix

    rng = np.random.default_rng(0)
    assert {make_lighting(rng, LightingMix(clear=0, overcast=0, dusk=0, night=1, rain=0)).kind for _ in range(20)} == {"night"}
    kinds = Counter(make_lighting(rng, LightingMix(clear=3, overcast=1, dusk=0, night=0, rain=0)).kind for _ in range(400))
    assert set(kinds) == {"clear", "overcast"} and 250 < kinds["clear"] < 350
    assert synth_config({"lighting": {"night": 2, "clear": 2}}).lighting.probabilities[0] == pytest.approx(
        2 / (2 + 2 + 0.26 + 0.10 + 0.10))
    with pytest.raises(InputError, match="at least one kind"):
        synth_config({"lighting": {"clear": 0, "overcast": 0, "dusk": 0, "night": 0, "rain": 0}})
    with pytest.raises(InputError, match=r"synth\.lighting \[dusk\]: dusk must be >= 0"):
        synth_config({"lighting": {"dusk": -1}})



def test_scene_workers_never_fork_the_caller():
    # a pytest worker hung in CI: synth forked it after earlier tests had run OpenCV's thread
    # pool, and the forked scene worker waited forever in cv2.setNumThreads (a lock held by a
    # thread that does not exist in the child); workers start from the forkserver instead
    from nuscmot.synthetic import worker_context

    assert worker_context().get_start_method() in ("forkserver", "spawn")
