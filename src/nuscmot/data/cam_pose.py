"""Camera poses of a tracking sequence: ``<seq>/cam_pose.json``, written by ``convert``.

Every MOT sequence folder (``results/mot/test/<scene>/``, and any other split written with
the same layout) gets one file next to ``gt/gt.txt``, so a tracker can undo the camera's own
motion without estimating it from pixels. The pose of each frame is the devkit's chain for
that frame's ``sample_data``: ``ego_pose`` (ego -> global) after ``calibrated_sensor``
(camera -> ego)::

    {
      "format": "nuscmot-cam-pose-1",
      "camera": "CAM_FRONT",
      "width": 1600, "height": 900,
      "intrinsic": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]],
      "frames": [
        {"frame": 1, "timestamp": 1532402928112460, "sample_data_token": "...",
         "rotation": [w, x, y, z], "translation": [x, y, z]},
        ...
      ]
    }

- ``frame``: 1-based, the MOT frame numbers of ``gt.txt`` (keyframes in time order), every
  frame once, in order; ``timestamp``: the image's ``sample_data`` timestamp (microseconds).
- ``rotation``: unit quaternion (w, x, y, z), ``w >= 0``, of the camera -> global rotation
  ``R = R_ego R_cam``; ``translation``: the camera centre in global coordinates (metres),
  ``t = R_ego t_cam + t_ego``. A camera point ``p`` is at ``R p + t`` in the global frame
  (camera axes as nuScenes': x right, y down, z forward).
- ``intrinsic``: the 3x3 ``camera_intrinsic`` K of the sequence's calibrated sensor (one per
  sequence; a sequence whose intrinsics change is refused).

:func:`read_cam_poses` is the reader the tracker uses; bad files are one-line InputErrors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.io import write_text
from nuscmot.common.mot import CAM_POSE_FILE
from nuscmot.data.geometry import quaternion_to_matrix

FORMAT = "nuscmot-cam-pose-1"


@dataclass(frozen=True)
class CameraPose:
    """One image's camera -> global pose and intrinsics (as :func:`camera_pose` computes them)."""

    rotation: tuple[float, float, float, float]  # quaternion w, x, y, z
    translation: tuple[float, float, float]
    intrinsic: tuple[tuple[float, float, float], ...]  # 3x3, row-major


@dataclass(frozen=True)
class SequencePoses:
    """A sequence's poses as arrays: rotation matrices (N, 3, 3), translations (N, 3), K (3, 3)."""

    rotations: np.ndarray
    translations: np.ndarray
    intrinsic: np.ndarray
    timestamps: np.ndarray  # (N,) int64, microseconds


def quaternion_multiply(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """Hamilton product ``a * b`` of (w, x, y, z) quaternions (the rotation ``R(a) R(b)``)."""
    aw, ax, ay, az = (float(v) for v in a)
    bw, bx, by, bz = (float(v) for v in b)
    return np.array([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ])  # fmt: skip


def _unit(q: np.ndarray) -> np.ndarray:
    q = q / np.linalg.norm(q)
    return -q if q[0] < 0 else q


def camera_pose(ego_pose: dict, calibrated_sensor: dict) -> CameraPose:
    """Camera -> global pose of one ``sample_data`` from its ``ego_pose`` and ``calibrated_sensor`` records."""
    q_ego = _unit(np.asarray(ego_pose["rotation"], dtype=np.float64))
    q_cam = _unit(np.asarray(calibrated_sensor["rotation"], dtype=np.float64))
    rotation = _unit(quaternion_multiply(q_ego, q_cam))
    t = quaternion_to_matrix(q_ego) @ np.asarray(calibrated_sensor["translation"], dtype=np.float64)
    t = t + np.asarray(ego_pose["translation"], dtype=np.float64)
    k = np.asarray(calibrated_sensor["camera_intrinsic"], dtype=np.float64).reshape(3, 3)
    return CameraPose(
        rotation=tuple(float(v) for v in rotation),
        translation=tuple(float(v) for v in t),
        intrinsic=tuple(tuple(float(v) for v in row) for row in k),
    )


def pose_document(camera: str, width: int, height: int, frames: Sequence[tuple[int, str, CameraPose]]) -> dict[str, Any]:
    """The JSON document of one sequence; ``frames``: (timestamp, sample_data token, pose) in frame order."""
    intrinsics = {pose.intrinsic for _, _, pose in frames}
    if len(intrinsics) != 1:
        raise ValueError(f"camera {camera}: {len(intrinsics)} different intrinsics within one sequence")
    return {
        "format": FORMAT,
        "camera": camera,
        "width": int(width),
        "height": int(height),
        "intrinsic": [list(row) for row in frames[0][2].intrinsic],
        "frames": [
            {"frame": i + 1, "timestamp": int(ts), "sample_data_token": token,
             "rotation": list(pose.rotation), "translation": list(pose.translation)}
            for i, (ts, token, pose) in enumerate(frames)
        ],
    }  # fmt: skip


def write_cam_poses(path: str | Path, document: dict[str, Any]) -> None:
    """Deterministic JSON (sorted keys), one line per frame, written atomically."""
    head = {k: v for k, v in document.items() if k != "frames"}
    lines = [f" {json.dumps(k)}: {json.dumps(v, sort_keys=True)}," for k, v in sorted(head.items())]
    frames = [f"  {json.dumps(f, sort_keys=True)}" for f in document["frames"]]
    write_text(path, "{\n" + "\n".join(lines) + '\n "frames": [\n' + ",\n".join(frames) + "\n ]\n}\n")


# ---------------------------------------------------------------------------------------
# Reading


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "missing camera pose file (written by convert; tracking.association.ego_compensation needs it)") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"corrupt camera pose JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read camera pose file ({exc})") from None


def _matrix(value: Any, shape: tuple[int, ...], path: Path, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != shape or not np.isfinite(arr).all():
        raise InputError(path, f"{what} must be {' x '.join(map(str, shape))} finite numbers")
    return arr


def read_cam_poses(path: str | Path, length: int) -> SequencePoses:
    """The poses of a sequence of ``length`` frames (``seqinfo.ini``'s seqLength) from its pose file."""
    path = Path(path)
    doc = _load(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("frames"), list):
        raise InputError(path, f"not a camera pose file (expected format {FORMAT!r} with a frames list)")
    k = _matrix(doc.get("intrinsic"), (3, 3), path, "intrinsic")
    if abs(np.linalg.det(k)) < 1e-12:
        raise InputError(path, "intrinsic matrix is singular")
    frames = doc["frames"]
    if not all(isinstance(f, dict) for f in frames) or [f.get("frame") for f in frames] != list(range(1, len(frames) + 1)):
        raise InputError(path, "frames must be numbered 1..N in order")
    if len(frames) != length:
        raise InputError(path, f"has {len(frames)} frames, the sequence {length} (seqinfo.ini)")
    q = _matrix([f.get("rotation") for f in frames], (length, 4), path, "frame rotations")
    if length and (np.linalg.norm(q, axis=1) < 1e-6).any():
        raise InputError(path, "a frame rotation is a zero quaternion")
    t = _matrix([f.get("translation") for f in frames], (length, 3), path, "frame translations")
    stamps = [f.get("timestamp") for f in frames]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in stamps):
        raise InputError(path, "frame timestamps must be integers (microseconds)")
    ts = np.array(stamps, dtype=np.int64)
    rot = quaternion_to_matrix(q) if length else np.zeros((0, 3, 3))
    return SequencePoses(rotations=rot, translations=t, intrinsic=k, timestamps=ts)
