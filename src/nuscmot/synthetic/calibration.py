"""The six-camera rig: nuScenes-like extrinsics and intrinsics scaled to the image size.

Values follow the real nuScenes rig (1600x900 images, fx ~ 1266 px, ~65-70 deg horizontal
field of view; CAM_BACK fx ~ 809 px, the wide rear camera). Each log gets a slightly
different calibration (fractions of a degree, millimetres), as real logs do. The numbers
stored in ``calibrated_sensor`` are rounded first and the renderer uses exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuscmot.synthetic.transforms import invert_pose, matrix_quaternion, pose_matrix, rot_x, rot_z

NATIVE_SIZE = (1600, 900)


@dataclass(frozen=True)
class CameraSpec:
    channel: str
    translation: tuple[float, float, float]  # metres, ego frame (x forward, y left, z up)
    yaw_deg: float                           # viewing direction, counter-clockwise from forward
    fx: float                                # intrinsics at 1600x900
    fy: float
    cx: float
    cy: float
    time_offset_us: int                      # capture time after the keyframe (lidar) time


RIG: tuple[CameraSpec, ...] = (
    CameraSpec("CAM_FRONT", (1.70, 0.016, 1.511), 0.0, 1266.42, 1266.42, 816.27, 491.51, 12_000),
    CameraSpec("CAM_FRONT_RIGHT", (1.551, -0.494, 1.496), -55.0, 1260.85, 1260.85, 807.97, 495.33, 20_000),
    CameraSpec("CAM_FRONT_LEFT", (1.524, 0.494, 1.510), 55.0, 1272.60, 1272.60, 826.62, 479.75, 4_000),
    CameraSpec("CAM_BACK", (0.028, 0.003, 1.579), 180.0, 809.22, 809.22, 829.22, 481.77, 37_000),
    CameraSpec("CAM_BACK_LEFT", (1.036, 0.485, 1.591), 110.0, 1256.75, 1256.75, 817.79, 451.95, 45_000),
    CameraSpec("CAM_BACK_RIGHT", (1.015, -0.480, 1.562), -110.0, 1259.51, 1259.51, 807.25, 501.20, 29_000),
)
CHANNELS: tuple[str, ...] = tuple(spec.channel for spec in RIG)

# Camera axes (x right, y down, z forward) expressed in the ego frame for a forward camera.
_CAM_AXES = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True)
class Camera:
    """One calibrated camera; every array is built from the rounded, stored values."""

    channel: str
    translation: tuple[float, ...]   # as stored in calibrated_sensor
    rotation: tuple[float, ...]      # (w, x, y, z), camera -> ego
    intrinsic: tuple[tuple[float, ...], ...]
    width: int
    height: int
    time_offset_us: int

    @property
    def k(self) -> np.ndarray:
        return np.array(self.intrinsic, dtype=np.float64)

    @property
    def cam_to_ego(self) -> np.ndarray:
        return pose_matrix(self.translation, self.rotation)

    @property
    def ego_to_cam(self) -> np.ndarray:
        return invert_pose(self.cam_to_ego)


def make_rig(rng: np.random.Generator, width: int, height: int) -> list[Camera]:
    """The six cameras of one log: nuScenes placement plus a small per-log calibration error."""
    sx, sy = width / NATIVE_SIZE[0], height / NATIVE_SIZE[1]
    cams = []
    for spec in RIG:
        yaw = np.deg2rad(spec.yaw_deg + rng.normal(0.0, 0.4))
        pitch = np.deg2rad(rng.normal(0.0, 0.4))   # about the camera x axis (positive: looks down)
        roll = np.deg2rad(rng.normal(0.0, 0.25))   # about the optical axis
        r = rot_z(yaw) @ _CAM_AXES @ rot_x(-pitch) @ rot_z(roll)
        q = matrix_quaternion(r)
        t = np.asarray(spec.translation) + rng.normal(0.0, 0.004, size=3)
        k = [
            [round(spec.fx * sx, 4), 0.0, round(spec.cx * sx, 4)],
            [0.0, round(spec.fy * sy, 4), round(spec.cy * sy, 4)],
            [0.0, 0.0, 1.0],
        ]
        cams.append(
            Camera(
                channel=spec.channel,
                translation=tuple(round(float(v), 4) for v in t),
                rotation=tuple(round(float(v), 10) for v in q),
                intrinsic=tuple(tuple(row) for row in k),
                width=width,
                height=height,
                time_offset_us=spec.time_offset_us,
            )
        )
    return cams
