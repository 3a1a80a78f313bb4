"""MOTChallenge ground truth of the tracking test scenes (one camera), via :mod:`nuscmot.common.mot`.

Per scene: ``gt/gt.txt`` (``frame,id,x,y,w,h,1,class,visibility``; frames 1-based =
keyframes in time order; visibility = nuScenes level 1-4), ``seqinfo.ini`` (frameRate 2,
the keyframe rate), ``img1.txt`` (image paths relative to the dataroot, frame order) and
``cam_pose.json`` (every frame's camera -> global pose and the intrinsics, see
:mod:`nuscmot.data.cam_pose`) and ``gt/instances.csv`` (``id,instance_token``: which nuScenes
instance each GT id is).
Track ids come from instance tokens: 1..N in order of first appearance (frame, then token).
Every visibility level is kept; the evaluation decides what to ignore.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from nuscmot.common.io import write_csv
from nuscmot.common.mot import SeqInfo, write_image_list, write_mot, write_seqinfo, write_seqmap
from nuscmot.data.cam_pose import CAM_POSE_FILE, pose_document, write_cam_poses
from nuscmot.data.records import ImageBoxes

KEYFRAME_RATE_HZ = 2.0
INSTANCES_FILE = "instances.csv"  # gt/instances.csv: id,instance_token


def stable_track_ids(frames: Sequence[ImageBoxes]) -> dict[str, int]:
    """``{instance_token: id}``, ids 1..N by first appearance (frame order, then token string)."""
    ids: dict[str, int] = {}
    for im in sorted(frames, key=lambda f: f.frame_index):
        for token in sorted(im.instance_tokens):
            if token not in ids:
                ids[token] = len(ids) + 1
    return ids


def write_instances(path: Path, ids: dict[str, int]) -> None:
    """``id,instance_token`` of every GT id of a sequence, by id."""
    write_csv(path, ["id", "instance_token"], sorted(((i, t) for t, i in ids.items())))


def scene_gt_rows(frames: Sequence[ImageBoxes]) -> np.ndarray:
    """MOT gt rows (N, 9) of one scene's frames (one camera)."""
    frames = sorted(frames, key=lambda f: f.frame_index)
    ids = stable_track_ids(frames)
    rows = []
    for im in frames:
        for k, token in enumerate(im.instance_tokens):
            x1, y1, x2, y2 = im.xyxy[k]
            rows.append([im.frame_index + 1, ids[token], x1, y1, x2 - x1, y2 - y1, 1, im.class_ids[k], im.visibility[k]])
    return np.asarray(rows, dtype=np.float64).reshape(-1, 9)


def write_mot_dir(mot_dir: Path, seqmap: Path, images: Sequence[ImageBoxes], scenes: Sequence[str]) -> int:
    """Write ``<mot_dir>/<scene>/{gt/gt.txt,seqinfo.ini,img1.txt,cam_pose.json}`` and the seqmap;
    returns the gt row count. Every frame must carry its camera pose."""
    by_scene: dict[str, list] = {name: [] for name in scenes}
    for im in images:
        by_scene[im.scene_name].append(im)
    n_rows = 0
    for name in sorted(by_scene):
        frames = sorted(by_scene[name], key=lambda f: f.frame_index)
        if [f.frame_index for f in frames] != list(range(len(frames))):
            raise ValueError(f"scene {name}: frames are not one camera's consecutive keyframes")
        if not frames:
            raise ValueError(f"scene {name} has no keyframes")
        sizes = {(f.width, f.height) for f in frames}
        if len(sizes) != 1:
            raise ValueError(f"scene {name}: image size changes within the sequence {sorted(sizes)}")
        rows = scene_gt_rows(frames)
        n_rows += len(rows)
        seq = Path(mot_dir) / name
        write_mot(seq / "gt" / "gt.txt", rows, "gt")
        write_instances(seq / "gt" / INSTANCES_FILE, stable_track_ids(frames))
        write_seqinfo(seq / "seqinfo.ini", SeqInfo(name=name, length=len(frames), width=frames[0].width, height=frames[0].height, frame_rate=KEYFRAME_RATE_HZ))
        write_image_list(seq / "img1.txt", [f.file_name for f in frames])
        write_cam_poses(seq / CAM_POSE_FILE, sequence_poses(name, frames))
    write_seqmap(seqmap, sorted(by_scene))
    return n_rows


def sequence_poses(name: str, frames: Sequence[ImageBoxes]) -> dict:
    """The ``cam_pose.json`` document of one scene's frames (one camera, frame order)."""
    if any(f.pose is None for f in frames):
        raise ValueError(f"scene {name}: a frame has no camera pose")
    cameras = {f.camera for f in frames}
    if len(cameras) != 1:
        raise ValueError(f"scene {name}: frames of several cameras {sorted(cameras)}")
    return pose_document(frames[0].camera, frames[0].width, frames[0].height,
                         [(f.timestamp, f.sample_data_token, f.pose) for f in frames])
