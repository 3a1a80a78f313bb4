"""``<seq>/cam_pose.json``: written by convert for every test sequence, equal to the devkit's
ego_pose x calibrated_sensor chain, read back by the tracker; bad files are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from nuscenes.utils.geometry_utils import transform_matrix
from pyquaternion import Quaternion

from nuscmot.common.errors import InputError
from nuscmot.common.mot import read_image_list, read_seqinfo, read_seqmap
from nuscmot.data.cam_pose import CAM_POSE_FILE, FORMAT, camera_pose, quaternion_multiply, read_cam_poses
from nuscmot.data.convert import load_nuscenes
from nuscmot.data.geometry import quaternion_to_matrix


@pytest.fixture(scope="module")
def nusc(tiny_converted):
    return load_nuscenes(tiny_converted.dataroot, tiny_converted.version)


def sequences(conv) -> list[tuple[str, Path]]:
    return [(name, conv.mot_dir / name) for name in read_seqmap(conv.seqmap)]


def test_every_sequence_has_its_pose_file(tiny_converted, tiny_config):
    seqs = sequences(tiny_converted)
    assert seqs
    for name, seq in seqs:
        doc = json.loads((seq / CAM_POSE_FILE).read_text())
        info = read_seqinfo(seq / "seqinfo.ini")
        assert doc["format"] == FORMAT and doc["camera"] == tiny_config["convert"]["test_camera"]
        assert (doc["width"], doc["height"]) == (info.width, info.height)
        assert np.asarray(doc["intrinsic"]).shape == (3, 3)
        assert [f["frame"] for f in doc["frames"]] == list(range(1, info.length + 1))
        stamps = [f["timestamp"] for f in doc["frames"]]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        for f in doc["frames"]:
            assert set(f) == {"frame", "timestamp", "sample_data_token", "rotation", "translation"}
            assert np.linalg.norm(f["rotation"]) == pytest.approx(1.0) and f["rotation"][0] >= 0
        # one frame per line: the file reads (and diffs) frame by frame
        lines = (seq / CAM_POSE_FILE).read_text().splitlines()
        assert sum(line.lstrip().startswith('{"frame"') for line in lines) == info.length


def test_poses_equal_the_devkit_chain(tiny_converted, nusc):
    """rotation/translation = global_from_ego @ ego_from_camera (devkit transform_matrix), K the sensor's."""
    for name, seq in sequences(tiny_converted):
        doc = json.loads((seq / CAM_POSE_FILE).read_text())
        images = read_image_list(seq / "img1.txt")
        for f, image in zip(doc["frames"], images, strict=True):
            sd = nusc.get("sample_data", f["sample_data_token"])
            assert sd["filename"] == image and sd["timestamp"] == f["timestamp"]
            ego = nusc.get("ego_pose", sd["ego_pose_token"])
            cs = nusc.get("calibrated_sensor", sd["calibrated_sensor_token"])
            expected = transform_matrix(ego["translation"], Quaternion(ego["rotation"])) @ transform_matrix(
                cs["translation"], Quaternion(cs["rotation"])
            )
            np.testing.assert_allclose(quaternion_to_matrix(np.array(f["rotation"])), expected[:3, :3], atol=1e-12)
            np.testing.assert_allclose(f["translation"], expected[:3, 3], atol=1e-9)
            np.testing.assert_allclose(doc["intrinsic"], cs["camera_intrinsic"], atol=0)


def test_reader_returns_the_rotations_and_intrinsics(tiny_converted):
    for name, seq in sequences(tiny_converted):
        doc = json.loads((seq / CAM_POSE_FILE).read_text())
        poses = read_cam_poses(seq / CAM_POSE_FILE, read_seqinfo(seq / "seqinfo.ini").length)
        rot = poses.rotations
        np.testing.assert_allclose(rot @ np.transpose(rot, (0, 2, 1)), np.broadcast_to(np.eye(3), rot.shape), atol=1e-12)
        np.testing.assert_allclose(poses.intrinsic, doc["intrinsic"])
        np.testing.assert_allclose(poses.translations, [f["translation"] for f in doc["frames"]])
        assert poses.timestamps.tolist() == [f["timestamp"] for f in doc["frames"]]


def test_camera_pose_composes_the_records():
    """A 90 degree ego yaw after a camera mount: the quaternion product is the matrix product."""
    yaw = Quaternion(axis=[0, 0, 1], degrees=90)
    mount = Quaternion(axis=[1, 0, 0], degrees=-90)
    ego = {"rotation": list(yaw.elements), "translation": [10.0, 5.0, 0.0]}
    cs = {"rotation": list(mount.elements), "translation": [1.0, 0.0, 1.5], "camera_intrinsic": np.eye(3).tolist()}
    pose = camera_pose(ego, cs)
    np.testing.assert_allclose(quaternion_to_matrix(np.array(pose.rotation)), yaw.rotation_matrix @ mount.rotation_matrix, atol=1e-12)
    np.testing.assert_allclose(pose.translation, [10.0, 6.0, 1.5], atol=1e-12)
    np.testing.assert_allclose(quaternion_multiply(yaw.elements, mount.elements), (yaw * mount).elements, atol=1e-12)


# ---------------------------------------------------------------------------------------
# Bad files


def good_doc(n: int = 3) -> dict:
    return {
        "format": FORMAT, "camera": "CAM_FRONT", "width": 800, "height": 450,
        "intrinsic": [[633.0, 0.0, 400.0], [0.0, 633.0, 225.0], [0.0, 0.0, 1.0]],
        "frames": [{"frame": i + 1, "timestamp": 1000 + i, "sample_data_token": f"t{i}",
                    "rotation": [1.0, 0.0, 0.0, 0.0], "translation": [float(i), 0.0, 0.0]} for i in range(n)],
    }  # fmt: skip


def _edit(doc: dict, how: str) -> dict:
    if how == "frames out of order":
        doc["frames"][0]["frame"], doc["frames"][1]["frame"] = 2, 1
    elif how == "too few frames":
        doc["frames"].pop()
    elif how == "zero quaternion":
        doc["frames"][1]["rotation"] = [0.0, 0.0, 0.0, 0.0]
    elif how == "short translation":
        doc["frames"][2]["translation"] = [1.0, 2.0]
    elif how == "singular intrinsic":
        doc["intrinsic"] = [[0.0] * 3] * 3
    elif how == "other format":
        doc["format"] = "something-else"
    elif how == "string timestamp":
        doc["frames"][0]["timestamp"] = "soon"
    return doc


@pytest.mark.parametrize(
    "how,message",
    [
        ("frames out of order", "frames must be numbered 1..N in order"),
        ("too few frames", r"has 2 frames, the sequence 3 \(seqinfo.ini\)"),
        ("zero quaternion", "a frame rotation is a zero quaternion"),
        ("short translation", "frame translations must be 3 x 3 finite numbers"),
        ("singular intrinsic", "intrinsic matrix is singular"),
        ("other format", "not a camera pose file"),
        ("string timestamp", "frame timestamps must be integers"),
    ],
)
def test_bad_pose_file_is_one_input_error(tmp_path, how, message):
    path = tmp_path / CAM_POSE_FILE
    path.write_text(json.dumps(_edit(good_doc(), how)))
    with pytest.raises(InputError, match=message) as err:
        read_cam_poses(path, 3)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_missing_and_corrupt_pose_files(tmp_path):
    with pytest.raises(InputError, match="missing camera pose file"):
        read_cam_poses(tmp_path / CAM_POSE_FILE, 3)
    (tmp_path / CAM_POSE_FILE).write_text('{"format": ')
    with pytest.raises(InputError, match=r"corrupt camera pose JSON \(.* at line 1 column \d+\)"):
        read_cam_poses(tmp_path / CAM_POSE_FILE, 3)
    (tmp_path / CAM_POSE_FILE).write_text(json.dumps(good_doc()))
    assert read_cam_poses(tmp_path / CAM_POSE_FILE, 3).rotations.shape == (3, 3, 3)
