"""nuScenes (real or synthetic) -> COCO detector sets, MOT test ground truth, GT trajectories.

Steps: load the tables with the real devkit (bad tables become one-line InputErrors naming
the file; the sweep rows, never read, are freed at once: :mod:`.devkit`), map categories to
classes (:mod:`.classes`), split scenes (:mod:`.splits`), check every used image exists,
then project every kept annotation of every used camera keyframe into its image, all boxes
of one image at once (:mod:`.geometry`, same boxes as the devkit's
``export_2d_annotations_as_json``), into compact per-image records (:mod:`.records`). The
devkit is then released, so the outputs never add to its peak memory. They are built one
at a time and committed together at the end, each file atomically, so bad input leaves no
partial output. Each phase logs its time and the peak RSS so far (:mod:`nuscmot.common.phases`).
Every MOT test sequence also gets its camera's pose per frame, ``cam_pose.json``
(``ego_pose`` x ``calibrated_sensor``, format in :mod:`.cam_pose`), for ego-motion
compensation in tracking.

Filters: annotations of unmapped categories are dropped; a 2D box is kept when both sides
are >= ``min_box_size`` px (and > 0). ``min_visibility`` (nuScenes visibility level 1-4)
applies to the COCO sets only: MOT ground truth and trajectories keep every level (with
the level in their visibility column), so evaluation / training decide what to ignore.
"""

from __future__ import annotations

import gc
import json
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from nuscmot.common.errors import InputError
from nuscmot.common.fields import AT_LEAST_0, NON_EMPTY_SET, check_fields, limited
from nuscmot.common.images import check_image_tail
from nuscmot.common.io import atomic_dir, atomic_path, write_json
from nuscmot.common.phases import PhaseLog
from nuscmot.data.cam_pose import camera_pose
from nuscmot.data.classes import CLASSES, DEFAULT_CATEGORY_MAP, build_category_lookup
from nuscmot.data.coco import coco_dataset
from nuscmot.data.devkit import drop_sweeps, load_nuscenes
from nuscmot.data.geometry import CameraView, box_corners, project_boxes_2d
from nuscmot.data.mot_gt import write_mot_dir
from nuscmot.data.records import ImageBoxes
from nuscmot.data.splits import OFFICIAL_SPLIT_KEYS, SPLITS_FILE, Splits, make_splits, official_scenes
from nuscmot.data.trajectories import trajectory_table, write_trajectories

log = logging.getLogger(__name__)

CATEGORY_NAME = r"^[a-z_]+(\.[a-z_]+)*$"  # a nuScenes category name, '.'-separated
CAMERAS = ("CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_FRONT_LEFT", "CAM_BACK", "CAM_BACK_LEFT", "CAM_BACK_RIGHT")


@dataclass(frozen=True)
class ConvertConfig:
    """The ``convert`` config slice (see config.yaml)."""

    cameras: tuple[str, ...] = limited(CAMERAS, **NON_EMPTY_SET, items={"enum": CAMERAS})
    test_camera: str = limited("CAM_FRONT", enum=CAMERAS)
    detector_val_fraction: float = limited(0.2, exclusiveMinimum=0, exclusiveMaximum=1)
    split_seed: int = limited(0, **AT_LEAST_0)
    min_visibility: int = limited(1, minimum=0, maximum=4)  # a nuScenes visibility level (0: keep all)
    min_box_size: float = limited(4.0, **AT_LEAST_0)
    include_construction: bool = False
    classes: tuple[str, ...] = limited(CLASSES, **NON_EMPTY_SET)
    category_map: dict[str, list[str]] = limited(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_CATEGORY_MAP.items()},
        additionalProperties={"minItems": 1, "items": {"pattern": CATEGORY_NAME}},
    )

    def __post_init__(self) -> None:
        check_fields(self, "convert")


@dataclass(frozen=True)
class Outputs:
    coco_train: Path
    coco_val: Path
    coco_test: Path
    mot_dir: Path
    seqmap: Path
    traj_train: Path
    traj_val: Path
    splits: Path
    tune_mot_dir: Path | None = None  # MOT GT of the tuning sequences (test camera, detector-val scenes)
    tune_seqmap: Path | None = None


@dataclass
class _SampleBoxes:
    """The mapped annotations of one sample, in global coordinates (shared by its cameras)."""

    annotation_tokens: list[str]
    instance_tokens: list[str]
    class_ids: np.ndarray
    visibility: np.ndarray
    corners: np.ndarray  # (N, 8, 3)


# ---------------------------------------------------------------------------------------
# Loading


def scene_keyframes(nusc, scene: dict) -> list[dict]:
    """The scene's samples (keyframes) in time order, following ``first_sample_token`` / ``next``."""
    out = []
    token = scene["first_sample_token"]
    seen = set()
    while token:
        if token in seen:
            raise InputError(Path(nusc.table_root) / "sample.json", f"cycle in the sample chain of scene {scene['name']!r}")
        seen.add(token)
        sample = nusc.get("sample", token)
        out.append(sample)
        token = sample["next"]
    return out


def _visibility_level(token: str, ann_token: str, table: Path) -> int:
    try:
        level = int(token)
    except (TypeError, ValueError):
        raise InputError(table, f"annotation {ann_token}: visibility token {token!r} is not a level 1-4") from None
    if not 1 <= level <= 4:
        raise InputError(table, f"annotation {ann_token}: visibility level {level} outside 1-4")
    return level


def _sample_boxes(nusc, sample: dict, lookup: dict[str, int]) -> _SampleBoxes:
    """Mapped annotations of ``sample``, sorted by instance token (drop unmapped categories)."""
    table = Path(nusc.table_root) / "sample_annotation.json"
    recs = [nusc.get("sample_annotation", t) for t in sample["anns"]]
    recs = [r for r in recs if r["category_name"] in lookup]
    recs.sort(key=lambda r: (r["instance_token"], r["token"]))
    n = len(recs)
    if n == 0:
        return _SampleBoxes([], [], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 8, 3)))
    corners = box_corners(
        np.array([r["translation"] for r in recs], dtype=np.float64),
        np.array([r["size"] for r in recs], dtype=np.float64),
        np.array([r["rotation"] for r in recs], dtype=np.float64),
    )
    return _SampleBoxes(
        annotation_tokens=[r["token"] for r in recs],
        instance_tokens=[r["instance_token"] for r in recs],
        class_ids=np.array([lookup[r["category_name"]] for r in recs], dtype=np.int64),
        visibility=np.array([_visibility_level(r["visibility_token"], r["token"], table) for r in recs], dtype=np.int64),
        corners=corners,
    )


# ---------------------------------------------------------------------------------------
# Extraction


@dataclass(frozen=True)
class SceneJob:
    scene: dict
    cameras: tuple[str, ...]


def _sample_data_for(nusc, scene: dict, samples: list[dict], camera: str) -> list[dict]:
    out = []
    for sample in samples:
        token = sample["data"].get(camera)
        if token is None:
            raise InputError(
                Path(nusc.table_root) / "sample_data.json",
                f"scene {scene['name']!r}: sample {sample['token']} has no {camera} keyframe",
            )
        out.append(nusc.get("sample_data", token))
    return out


def check_images(dataroot: Path, version: str, sample_data: list[dict]) -> None:
    """Every image a used sample_data points to must exist and end as its format ends (a JPEG
    cut short is found here, not hours into training; ~10 us an image, its last bytes only):
    InputError naming the first bad one."""
    for sd in sample_data:
        path = dataroot / sd["filename"]
        if not path.is_file():
            raise InputError(path, f"missing image of sample_data {sd['token']} ({version}/sample_data.json)")
        problem = check_image_tail(path)
        if problem is not None:
            raise InputError(path, f"{problem}, image of sample_data {sd['token']} ({version}/sample_data.json)")


def extract_images(
    nusc,
    jobs: list[SceneJob],
    lookup: dict[str, int],
    min_box_size: float,
    *,
    dataroot: Path,
    version: str,
) -> list[ImageBoxes]:
    """2D boxes of every camera keyframe of the jobs (class and size filters applied, not visibility)."""
    plan: list[tuple[dict, list[dict], dict[str, list[dict]]]] = []
    for job in jobs:
        samples = scene_keyframes(nusc, job.scene)
        per_cam = {cam: _sample_data_for(nusc, job.scene, samples, cam) for cam in job.cameras}
        plan.append((job.scene, samples, per_cam))
    all_sd = [sd for _, _, per_cam in plan for cam in sorted(per_cam) for sd in per_cam[cam]]
    check_images(dataroot, version, all_sd)

    images: list[ImageBoxes] = []
    with tqdm(total=len(all_sd), desc="convert: sample_data", unit="img", leave=False, mininterval=1.0) as bar:
        for scene, samples, per_cam in plan:
            cams = sorted(per_cam)
            for frame_index, sample in enumerate(samples):
                boxes = _sample_boxes(nusc, sample, lookup)
                sds = [per_cam[cam][frame_index] for cam in cams]
                images += _sample_images(nusc, scene, cams, frame_index, sds, boxes, min_box_size)
                bar.update(len(sds))
    return images


def _sample_images(
    nusc, scene: dict, cams: list[str], frame_index: int, sds: list[dict], boxes: _SampleBoxes, min_box_size: float
) -> list[ImageBoxes]:
    """The kept 2D boxes of one sample's annotations in each of its camera images (one numpy pass)."""
    records = [(nusc.get("ego_pose", sd["ego_pose_token"]), nusc.get("calibrated_sensor", sd["calibrated_sensor_token"]))
               for sd in sds]
    if len(boxes.annotation_tokens):
        views = [CameraView.from_records(ego, cs, sd["width"], sd["height"]) for (ego, cs), sd in zip(records, sds)]
        xyxy, hit = project_boxes_2d(boxes.corners, views)  # (C, N, 4), (C, N)
        w = xyxy[..., 2] - xyxy[..., 0]
        h = xyxy[..., 3] - xyxy[..., 1]
        keep = hit & (w > 0) & (h > 0) & (w >= min_box_size) & (h >= min_box_size)
    else:
        xyxy = np.zeros((len(sds), 0, 4))
        keep = np.zeros((len(sds), 0), dtype=bool)
    out = []
    for c, (cam, sd) in enumerate(zip(cams, sds)):
        idx = np.flatnonzero(keep[c])
        out.append(
            ImageBoxes(
                scene_name=scene["name"],
                scene_token=scene["token"],
                camera=cam,
                frame_index=frame_index,
                sample_data_token=sd["token"],
                timestamp=int(sd["timestamp"]),
                file_name=sd["filename"],
                width=int(sd["width"]),
                height=int(sd["height"]),
                xyxy=xyxy[c, idx],
                class_ids=boxes.class_ids[idx],
                visibility=boxes.visibility[idx],
                instance_tokens=[boxes.instance_tokens[k] for k in idx],
                annotation_tokens=[boxes.annotation_tokens[k] for k in idx],
                pose=camera_pose(*records[c]),
            )
        )
    return out


# ---------------------------------------------------------------------------------------
# Orchestration


def dataset_splits(nusc, version: str, dataroot: Path, cfg: ConvertConfig) -> Splits:
    train, val = official_scenes(version, dataroot)
    if version in OFFICIAL_SPLIT_KEYS:
        source: str | Path = f"nuscenes.utils.splits.create_splits_scenes()[{'/'.join(OFFICIAL_SPLIT_KEYS[version])}]"
    else:
        source = dataroot / version / SPLITS_FILE
    return make_splits(train, val, (s["name"] for s in nusc.scene), cfg.detector_val_fraction, cfg.split_seed, source=source)


def extract_all(nusc, cfg: ConvertConfig, version: str, dataroot: Path) -> tuple[Splits, list[ImageBoxes]]:
    """Everything ``convert`` needs of the devkit: the splits and the kept boxes of every used image."""
    lookup = build_category_lookup(
        cfg.classes,
        cfg.category_map,
        cfg.include_construction,
        (c["name"] for c in nusc.category),
        category_table=dataroot / version / "category.json",
    )
    splits = dataset_splits(nusc, version, dataroot, cfg)
    scenes = {s["name"]: s for s in nusc.scene}
    cams = tuple(sorted(cfg.cameras))
    jobs = [SceneJob(scenes[n], cams) for n in splits.detector_train + splits.detector_val]
    jobs += [SceneJob(scenes[n], (cfg.test_camera,)) for n in splits.test]
    return splits, extract_images(nusc, jobs, lookup, cfg.min_box_size, dataroot=dataroot, version=version)


def convert(cfg: ConvertConfig, version: str, dataroot: str | Path, out: Outputs) -> dict[str, Any]:
    """Run the whole conversion; returns a small summary (counts) for the log.

    The devkit is only needed to extract the images' boxes (compact records); it is released
    before any output is built, so the output phase never adds to the devkit's own peak memory.
    """
    if (out.tune_mot_dir is None) != (out.tune_seqmap is None):
        raise InputError("convert", "the tuning split needs both its MOT folder and its seqmap")
    dataroot = Path(dataroot)
    phases = PhaseLog("convert")
    nusc = load_nuscenes(dataroot, version)
    phases.done("load")
    drop_sweeps(nusc)
    phases.done("drop_sweeps")
    splits, images = extract_all(nusc, cfg, version, dataroot)
    phases.done("extract")
    nusc.explorer = None  # the devkit's own cycle (explorer.nusc): dropping nusc now frees its tables
    del nusc
    gc.collect()
    phases.done("release")
    summary = write_outputs(cfg, version, splits, images, out, phases)
    summary["phases"] = phases.summary()
    log.info("converted %s: %s", version, json.dumps(summary, sort_keys=True))
    return summary


def write_outputs(cfg: ConvertConfig, version: str, splits: Splits, images: list[ImageBoxes], out: Outputs,
                  phases: PhaseLog) -> dict[str, Any]:
    """Build and write every output, one COCO set at a time; all are committed together at the end."""
    in_train, in_val, in_test = set(splits.detector_train), set(splits.detector_val), set(splits.test)
    parts = {
        "train": [im for im in images if im.scene_name in in_train],
        "val": [im for im in images if im.scene_name in in_val],
        "test": [im for im in images if im.scene_name in in_test and im.camera == cfg.test_camera],
    }
    tune_imgs = [im for im in parts["val"] if im.camera == cfg.test_camera]  # official train side only
    info = {"description": f"nuscmot conversion of nuScenes {version}", "version": version}
    counts: dict[str, dict[str, int]] = {"images": {}, "annotations": {}}
    with ExitStack() as stack:  # every output is committed only if all of them were written
        paths = {
            name: stack.enter_context(atomic_path(getattr(out, name)))
            for name in ("coco_train", "coco_val", "coco_test", "seqmap", "traj_train", "traj_val", "splits")
        }
        for split in ("train", "val", "test"):
            coco = coco_dataset(parts[split], cfg.classes, cfg.min_visibility, info)
            counts["images"][split], counts["annotations"][split] = len(coco["images"]), len(coco["annotations"])
            phases.done("coco")
            write_json(paths[f"coco_{split}"], coco, indent=None)
            del coco
            phases.done("json")
        n_gt = write_mot_dir(stack.enter_context(atomic_dir(out.mot_dir)), paths["seqmap"], parts["test"], splits.test)
        if out.tune_mot_dir is not None:
            tune_seqmap = stack.enter_context(atomic_path(out.tune_seqmap))
            write_mot_dir(stack.enter_context(atomic_dir(out.tune_mot_dir)), tune_seqmap, tune_imgs,
                          splits.detector_val)
        write_json(paths["splits"], splits.to_json())
        phases.done("mot")
        rows = {}
        for split in ("train", "val"):
            table = trajectory_table(parts[split])
            rows[split] = table.num_rows
            write_trajectories(paths[f"traj_{split}"], table)
            del table
        phases.done("trajectories")
    phases.done("commit")
    return {"scenes": {k: len(v) for k, v in splits.to_json().items()}, **counts, "mot_gt_rows": n_gt,
            "trajectory_rows": rows}


def parse_params(params: dict[str, Any]) -> tuple[ConvertConfig, str]:
    """``{"cfg": <convert slice>, "version": "..."}`` -> (config, version)."""
    from nuscmot.common.config import from_dict

    if not isinstance(params.get("cfg"), dict) or not isinstance(params.get("version"), str):
        raise InputError("--params", 'expected {"cfg": {<convert slice>}, "version": "<nuScenes version>"}')
    extra = sorted(set(params) - {"cfg", "version"})
    if extra:
        raise InputError("--params", f"unknown key(s) {', '.join(extra)}")
    try:
        cfg = from_dict(ConvertConfig, params["cfg"], where="convert")
    except TypeError as exc:
        raise InputError("--params", f"bad convert config ({exc})", key="convert") from None
    return cfg, params["version"]
