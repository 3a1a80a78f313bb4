"""Synthetic camera trajectories for tests and benchmarks (no dataset needed).

Objects move on the ground plane in front of a forward-driving camera (ego speed and yaw rate
per scene, small accelerations) and are projected with a pinhole camera of nuScenes-like focal
length at 2 Hz: image motion is non-linear (objects speed up and grow as they approach),
boxes are clipped at the image border, and objects enter and leave the view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Class id (1-7: car, truck, bus, trailer, pedestrian, motorcycle, bicycle) -> (width, height) m.
CLASS_SIZE = {1: (1.9, 1.6), 2: (2.5, 3.0), 3: (2.9, 3.4), 4: (2.5, 3.5), 5: (0.6, 1.75), 6: (0.8, 1.5), 7: (0.6, 1.6)}
CLASS_PROB = np.array([0.45, 0.10, 0.05, 0.03, 0.25, 0.06, 0.06])
DT = 0.5  # s per keyframe (2 Hz)
CAM_HEIGHT = 1.5  # m


@dataclass(frozen=True)
class Camera:
    img_w: int = 800
    img_h: int = 450

    @property
    def focal(self) -> float:
        return 0.79 * self.img_w  # nuScenes: ~1266 px at 1600 px width


def _spawn(rng: np.random.Generator, n: int, cam: Camera, ego_speed: float) -> dict[str, np.ndarray]:
    cls = rng.choice(np.arange(1, 8), size=n, p=CLASS_PROB)
    z = rng.uniform(6.0, 60.0, n)
    x = rng.uniform(-0.9, 0.9, n) * z * (cam.img_w / 2) / cam.focal
    ped = cls == 5
    vz = np.where(rng.random(n) < 0.3, 0.0, rng.choice([-1.0, 1.0], n) * rng.uniform(2.0, 12.0, n))
    vz = np.where(ped, rng.uniform(-1.0, 1.0, n), vz)
    vx = np.where(ped, rng.uniform(-1.5, 1.5, n), rng.normal(0.0, 0.3, n))
    return {"cls": cls, "x": x, "z": z, "vx": vx, "vz": vz - ego_speed}


def _project(x, z, cls, cam: Camera):
    wh = np.array([CLASS_SIZE[int(c)] for c in cls]).reshape(-1, 2)
    f = cam.focal
    zc = np.maximum(z, 1e-3)
    u = f * x / zc + cam.img_w / 2
    bottom = f * CAM_HEIGHT / zc + cam.img_h / 2
    top = f * (CAM_HEIGHT - wh[:, 1]) / zc + cam.img_h / 2
    half = f * wh[:, 0] / zc / 2
    x1, x2 = np.clip(u - half, 0, cam.img_w), np.clip(u + half, 0, cam.img_w)
    y1, y2 = np.clip(top, 0, cam.img_h), np.clip(bottom, 0, cam.img_h)
    visible = (z > 1.0) & (x2 - x1 >= 4) & (y2 - y1 >= 4)
    return np.column_stack([x1, y1, x2 - x1, y2 - y1]), visible


def simulate_scene(
    rng: np.random.Generator, n_frames: int, n_objects: int, cam: Camera = Camera(), respawn: bool = False
) -> np.ndarray:
    """One scene -> MOT gt-like rows ``frame, id, x, y, w, h, 1, class, visibility`` (ids from 1).

    With ``respawn`` an object that leaves the view is replaced by a new one (new id), so the
    number of visible objects stays near ``n_objects``.
    """
    ego_speed = rng.uniform(0.0, 10.0)
    yaw_rate = rng.normal(0.0, 0.03)
    s = _spawn(rng, n_objects, cam, ego_speed)
    ids = np.arange(1, n_objects + 1)
    next_id = n_objects + 1
    rows = []
    for frame in range(1, n_frames + 1):
        boxes, visible = _project(s["x"], s["z"], s["cls"], cam)
        vis_level = rng.integers(1, 5, len(ids))
        for i in np.flatnonzero(visible):
            rows.append([frame, ids[i], *boxes[i], 1, s["cls"][i], vis_level[i]])
        # Motion: own velocity with small accelerations, ego yaw rotates the scene.
        s["vx"] = s["vx"] + rng.normal(0.0, 0.25, len(ids)) * DT
        s["vz"] = s["vz"] + rng.normal(0.0, 0.4, len(ids)) * DT
        s["x"] = s["x"] + s["vx"] * DT
        s["z"] = s["z"] + s["vz"] * DT
        yaw = (yaw_rate + rng.normal(0.0, 0.01)) * DT
        s["x"], s["z"] = np.cos(yaw) * s["x"] - np.sin(yaw) * s["z"], np.sin(yaw) * s["x"] + np.cos(yaw) * s["z"]
        if respawn:
            _, vis_next = _project(s["x"], s["z"], s["cls"], cam)
            gone = np.flatnonzero(~vis_next | (s["z"] > 80))
            if len(gone):
                fresh = _spawn(rng, len(gone), cam, ego_speed)
                for key in s:
                    s[key][gone] = fresh[key]
                ids[gone] = np.arange(next_id, next_id + len(gone))
                next_id += len(gone)
    if not rows:
        return np.zeros((0, 9))
    out = np.asarray(rows, dtype=np.float64)
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def simulate_trajectories(seed: int, n_scenes: int, n_frames: int, n_objects: int, cam: Camera = Camera()):
    """Trajectory table in the convert stage's parquet layout (a pandas DataFrame)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    frames = []
    next_track = 0
    for s in range(n_scenes):
        rows = simulate_scene(rng, n_frames, n_objects, cam)
        if not len(rows):
            continue
        local = rows[:, 1].astype(np.int64)
        frames.append(pd.DataFrame({
            "track_id": local + next_track,
            "scene_name": f"sim-{s:04d}",
            "camera": "CAM_FRONT",
            "instance_token": [f"sim-{s:04d}-{i}" for i in local],
            "frame": rows[:, 0].astype(np.int64),
            "timestamp": (rows[:, 0] * DT * 1e6).astype(np.int64),
            "img_w": cam.img_w,
            "img_h": cam.img_h,
            "x": rows[:, 2], "y": rows[:, 3], "w": rows[:, 4], "h": rows[:, 5],
            "class_id": rows[:, 7].astype(np.int64),
            "visibility": rows[:, 8].astype(np.int64),
        }))
        next_track += int(local.max()) + 1
    return pd.concat(frames, ignore_index=True)
