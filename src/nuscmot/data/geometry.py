"""Vectorised 3D box -> 2D image box projection, matching the nuScenes devkit.

The devkit's ``export_2d_annotations_as_json`` script does, per annotation: move the
global box into the camera frame (ego pose, then calibrated sensor), keep the corners
with ``z > 0``, project them with the intrinsics, and return the bounds of
``convex_hull(projected corners) ∩ image`` (``post_process_coords``, with shapely).

Here the same thing runs with numpy for all boxes of a sample in all its camera images at
once (:func:`project_boxes_2d`). The bounds of
``conv(P) ∩ R`` (R the image rectangle) are computed without building the hull: every
vertex of that convex polygon is one of

- a point of P inside R,
- a crossing of a segment between two points of P with the border of R
  (each such segment lies inside conv(P), so each crossing lies in conv(P) ∩ R),
- a corner of R inside conv(P) (tested against every triangle of P).

All candidates lie in conv(P) ∩ R and include its vertices, so their bounds are exactly
the polygon's bounds. No candidate means no intersection.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Corner signs of the devkit's Box.corners(): x along length, y along width, z along height.
_CORNER_SIGNS = np.array(
    [
        [1, 1, 1, 1, -1, -1, -1, -1],
        [1, -1, -1, 1, 1, -1, -1, 1],
        [1, 1, -1, -1, 1, 1, -1, -1],
    ],
    dtype=np.float64,
).T  # (8, 3)


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of quaternions (..., 4) in (w, x, y, z) order (normalised first)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=-1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=-1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=-1),
        ],
        axis=-2,
    )


def box_corners(center: np.ndarray, wlh: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Corners (N, 8, 3) of boxes given centers (N, 3), sizes (N, 3) as w, l, h and quaternions (N, 4).

    Same corners as ``nuscenes.utils.data_classes.Box.corners()`` (order included).
    """
    center = np.asarray(center, dtype=np.float64).reshape(-1, 3)
    wlh = np.asarray(wlh, dtype=np.float64).reshape(-1, 3)
    half = wlh[:, [1, 0, 2]] / 2.0  # (l, w, h) / 2 along the box's x, y, z
    local = _CORNER_SIGNS[None, :, :] * half[:, None, :]  # (N, 8, 3)
    rot = quaternion_to_matrix(np.asarray(rotation, dtype=np.float64).reshape(-1, 4))
    return np.einsum("nij,nkj->nki", rot, local) + center[:, None, :]


def _rotation(q) -> np.ndarray:
    """Rotation matrix of one (w, x, y, z) quaternion (scalar math: cheaper than numpy for one)."""
    w, x, y, z = (float(v) for v in q)
    n = (w * w + x * x + y * y + z * z) ** 0.5
    w, x, y, z = w / n, x / n, y / n, z / n
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def global_to_camera(
    ego_translation: np.ndarray,
    ego_rotation: np.ndarray,
    cam_translation: np.ndarray,
    cam_rotation: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Affine (A, b) with ``p_cam = A @ p_global + b`` (ego pose, then calibrated sensor, as the devkit)."""
    r_ego = _rotation(ego_rotation)
    r_cam = _rotation(cam_rotation)
    a = r_cam.T @ r_ego.T
    b = -r_cam.T @ (r_ego.T @ np.asarray(ego_translation, dtype=np.float64) + np.asarray(cam_translation, dtype=np.float64))
    return a, b


def project_points(points_cam: np.ndarray, intrinsic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (..., 2) of camera-frame points (..., 3) and the mask of points with z > 0.

    ``intrinsic`` is (3, 3), or one matrix per leading index of ``points_cam`` ((C, 3, 3) for
    points (C, ..., 3)). Points behind the camera (z <= 0) are dropped by the devkit; their
    coordinates here are NaN.
    """
    points_cam = np.asarray(points_cam, dtype=np.float64)
    intrinsic = np.asarray(intrinsic, dtype=np.float64)
    z = points_cam[..., 2]
    in_front = z > 0
    if intrinsic.ndim == 2:
        hom = points_cam @ intrinsic.T
    else:
        flat = points_cam.reshape(len(intrinsic), -1, 3)
        hom = np.einsum("cij,cpj->cpi", intrinsic, flat).reshape(points_cam.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = hom[..., :2] / np.where(in_front, hom[..., 2], np.nan)[..., None]
    return uv, in_front


@functools.lru_cache(maxsize=None)
def _pairs(m: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(m, k=1)
    return i, j


@functools.lru_cache(maxsize=None)
def _triples(m: int) -> np.ndarray:
    return np.array(list(itertools.combinations(range(m), 3)), dtype=np.intp).reshape(-1, 3)


def _cross(ox, oy, ax, ay, bx, by):
    return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox)


def hull_image_bounds(points: np.ndarray, valid: np.ndarray, width, height) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``convex_hull(points[n][valid[n]]) ∩ [0, width] x [0, height]`` for each n.

    ``points``: (N, M, 2); ``valid``: (N, M) bool; ``width``/``height``: scalars or (N,)
    (one image size per row). Returns ``(xyxy (N, 4), hit (N,))``; rows without
    intersection have ``hit`` False and NaN bounds. Exact up to rounding (see the module
    docstring); degenerate hulls (a point or a segment) work too. Rows whose points all lie
    inside the image (the common case) skip the clipping.
    """
    pts = np.asarray(points, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    n = valid.shape[0]
    xyxy = np.full((n, 4), np.nan)
    hit = np.zeros(n, dtype=bool)
    if n == 0 or valid.shape[1] == 0:
        return xyxy, hit
    w = np.broadcast_to(np.asarray(width, dtype=np.float64), (n,))
    h = np.broadcast_to(np.asarray(height, dtype=np.float64), (n,))
    xy = np.where(valid[..., None], pts, 0.0)  # (N, M, 2); invalid points parked at 0
    lo = np.where(valid[..., None], xy, np.inf).min(axis=1)
    hi = np.where(valid[..., None], xy, -np.inf).max(axis=1)
    any_pt = valid.any(axis=1)
    size = np.stack([w, h], axis=1)
    inside = any_pt & (lo >= 0).all(axis=1) & (hi <= size).all(axis=1)
    xyxy[inside] = np.concatenate([lo, hi], axis=1)[inside]
    hit[inside] = True
    # The hull lies in the points' bounding box: no overlap with the image, no hit.
    clip = any_pt & ~inside & (lo <= size).all(axis=1) & (hi >= 0).all(axis=1)
    if clip.any():
        xyxy[clip], hit[clip] = _clip_bounds(xy[clip, :, 0], xy[clip, :, 1], valid[clip], w[clip, None], h[clip, None])
    return xyxy, hit


def _clip_bounds(px: np.ndarray, py: np.ndarray, valid: np.ndarray, w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate-vertex bounds of conv(P) ∩ R (module docstring) for rows that need clipping.

    ``px, py, valid``: (n, m); ``w, h``: (n, 1) image sizes.
    """
    n, m = valid.shape
    zero = np.zeros_like(w)
    cand_x: list[np.ndarray] = [px]
    cand_y: list[np.ndarray] = [py]
    # 1. Points inside the image.
    cand_ok: list[np.ndarray] = [valid & (px >= 0) & (px <= w) & (py >= 0) & (py <= h)]

    # 2. Crossings of every segment between two points with the four image edges.
    i, j = _pairs(m)
    if len(i):
        ax, ay, bx, by = px[:, i], py[:, i], px[:, j], py[:, j]
        seg_ok = valid[:, i] & valid[:, j]
        dx, dy = bx - ax, by - ay
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for line in (zero, w):  # vertical edges x = line, 0 <= y <= h
                t = (line - ax) / dx
                y = ay + t * dy
                cand_x.append(np.broadcast_to(line, y.shape))
                cand_y.append(y)
                cand_ok.append(seg_ok & (dx != 0) & (t >= 0) & (t <= 1) & (y >= 0) & (y <= h))
            for line in (zero, h):  # horizontal edges y = line, 0 <= x <= w
                t = (line - ay) / dy
                x = ax + t * dx
                cand_x.append(x)
                cand_y.append(np.broadcast_to(line, x.shape))
                cand_ok.append(seg_ok & (dy != 0) & (t >= 0) & (t <= 1) & (x >= 0) & (x <= w))

    # 3. Image corners inside the hull (inside some non-degenerate triangle of the points).
    tri = _triples(m)
    if len(tri):
        tx, ty = px[:, tri], py[:, tri]  # (n, T, 3)
        tri_ok = valid[:, tri].all(axis=-1)
        area = _cross(tx[..., 0], ty[..., 0], tx[..., 1], ty[..., 1], tx[..., 2], ty[..., 2])
        tri_ok &= area != 0
        sign = np.sign(area)
        for cx, cy in ((zero, zero), (w, zero), (zero, h), (w, h)):
            inside = tri_ok.copy()
            for k in range(3):
                a, b = k, (k + 1) % 3
                inside &= _cross(tx[..., a], ty[..., a], tx[..., b], ty[..., b], cx, cy) * sign >= 0
            cand_x.append(cx)
            cand_y.append(cy)
            cand_ok.append(inside.any(axis=1)[:, None])

    cx = np.concatenate(cand_x, axis=1)
    cy = np.concatenate(cand_y, axis=1)
    ok = np.concatenate(cand_ok, axis=1)
    hit = ok.any(axis=1)
    xyxy = np.stack(
        [
            np.where(ok, cx, np.inf).min(axis=1),
            np.where(ok, cy, np.inf).min(axis=1),
            np.where(ok, cx, -np.inf).max(axis=1),
            np.where(ok, cy, -np.inf).max(axis=1),
        ],
        axis=1,
    )
    xyxy[~hit] = np.nan
    return xyxy, hit


@dataclass(frozen=True)
class CameraView:
    """One camera image's projection: ``p_cam = rotation @ p_global + translation``, intrinsics, size."""

    rotation: np.ndarray  # (3, 3)
    translation: np.ndarray  # (3,)
    intrinsic: np.ndarray  # (3, 3)
    width: int
    height: int

    @classmethod
    def from_records(cls, ego_pose: dict, calibrated_sensor: dict, width: int, height: int) -> "CameraView":
        """From the nuScenes ``ego_pose`` and ``calibrated_sensor`` records of a sample_data."""
        a, b = global_to_camera(
            ego_pose["translation"], ego_pose["rotation"],
            calibrated_sensor["translation"], calibrated_sensor["rotation"],
        )
        return cls(a, b, np.asarray(calibrated_sensor["camera_intrinsic"], dtype=np.float64), int(width), int(height))


def project_boxes_2d(corners_global: np.ndarray, views: Sequence[CameraView]) -> tuple[np.ndarray, np.ndarray]:
    """2D boxes of global 3D box corners (N, 8, 3) in C camera images, all at once.

    Returns ``(xyxy (C, N, 4), hit (C, N))`` as :func:`hull_image_bounds` (x1, y1, x2, y2).
    """
    corners = np.asarray(corners_global, dtype=np.float64).reshape(-1, 8, 3)
    c, n = len(views), len(corners)
    if c == 0 or n == 0:
        return np.full((c, n, 4), np.nan), np.zeros((c, n), dtype=bool)
    rot = np.stack([v.rotation for v in views])
    trans = np.stack([v.translation for v in views])
    cam = np.einsum("cij,npj->cnpi", rot, corners) + trans[:, None, None, :]  # (C, N, 8, 3)
    uv, in_front = project_points(cam, np.stack([v.intrinsic for v in views]))
    width = np.repeat([v.width for v in views], n)
    height = np.repeat([v.height for v in views], n)
    xyxy, hit = hull_image_bounds(uv.reshape(c * n, 8, 2), in_front.reshape(c * n, 8), width, height)
    return xyxy.reshape(c, n, 4), hit.reshape(c, n)
