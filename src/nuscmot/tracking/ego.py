"""Ego-motion compensation: the image motion the camera's own rotation causes, undone exactly.

nuScenes records every image's camera pose (``ego_pose`` x ``calibrated_sensor``; ``convert``
writes it per sequence, :mod:`nuscmot.data.cam_pose`). Between frames t-1 and t a camera
that rotates by ``R_{t<-t-1} = R_t^T R_{t-1}`` (``R``: camera -> global rotations) moves the
image of a point at infinity by the homography

    H = K R_{t<-t-1} K^-1

(BoT-SORT estimates this motion from pixels, ~tens of ms a frame; here it is free and exact).
**Translation is ignored**: the camera's own travel moves near objects more than far ones
(parallax) and depends on their unknown depth, so it is left to the motion model, as
without compensation. Only the rotation (turns, and pitch/roll where the poses have them)
is removed.

With ``tracking.association.ego_compensation`` the tracker applies H to every track's
motion state *before* the motion model predicts frame t (:meth:`MotionModel.warp`), so the
prediction, the association and the next update all live in frame t's image:

- Kalman (:func:`warp_kalman`): BoT-SORT's GMC, with the homography linearised at each
  box: the box is warped (:func:`warp_tlwh`), the centre velocity is multiplied by the
  Jacobian J of H at the centre, aspect and height (and their velocities) by the box's
  aspect and height ratios, and the covariance transformed as ``A P A^T`` with that same
  linear map A.
- TrackSSM: every box of the model's input history is warped, so the model sees the track
  as if the camera had kept frame t's orientation throughout.

A box is warped through its four edge midpoints (left, right, top, bottom) and becomes
their axis-aligned bounds. Under a pure yaw vertical image lines stay vertical, so the left
and right edges map exactly; the corners of a warped box would bend off its top and bottom
edges, and their bounds would grow the box a little on every warp (on a track predicted
through a gap, warp after warp), while the midpoints keep its height at its centre column.
A box whose midpoints leave the half-space in front of the camera (a rotation of more than
90 degrees away from it) is left unwarped.
"""

from __future__ import annotations

import numpy as np

from nuscmot.tracking.boxes import tlwh_to_xyah, xyah_to_tlwh

_MIN_DEPTH = 1e-6  # homogeneous w below this: the point is behind (or beside) the camera


def relative_rotation(r_prev: np.ndarray, r_cur: np.ndarray) -> np.ndarray:
    """``R_{t<-t-1}``: camera t-1 coordinates -> camera t coordinates (rotation only) of
    camera -> global rotations (3, 3)."""
    return np.asarray(r_cur, dtype=np.float64).T @ np.asarray(r_prev, dtype=np.float64)


def rotation_homography(intrinsic: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """``K R K^-1``: pixels of frame t-1 -> pixels of frame t for a camera rotation ``R_{t<-t-1}``."""
    k = np.asarray(intrinsic, dtype=np.float64)
    return k @ np.asarray(rotation, dtype=np.float64) @ np.linalg.inv(k)


def sequence_homographies(rotations: np.ndarray, intrinsic: np.ndarray) -> np.ndarray:
    """(N, 3, 3): identity for frame 1, then ``K R_t^T R_{t-1} K^-1`` for each next frame."""
    rot = np.asarray(rotations, dtype=np.float64).reshape(-1, 3, 3)
    out = np.repeat(np.eye(3)[None], len(rot), axis=0)
    for t in range(1, len(rot)):
        out[t] = rotation_homography(intrinsic, relative_rotation(rot[t - 1], rot[t]))
    return out


def warp_points(h: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (..., 2) through the homography ``h``; returns (points', in front (...,) bool).
    Points that fall behind the camera keep their input coordinates."""
    pts = np.asarray(points, dtype=np.float64)
    hom = pts @ h[:2, :2].T + h[:2, 2]
    w = pts @ h[2, :2] + h[2, 2]
    front = w > _MIN_DEPTH
    out = np.where(front[..., None], hom / np.where(front, w, 1.0)[..., None], pts)
    return out, front


def _midpoints(tlwh: np.ndarray) -> np.ndarray:
    """Left, right, top, bottom edge midpoints (N, 4, 2) of tlwh boxes."""
    x, y, w, h = (tlwh[:, i] for i in range(4))
    cx, cy = x + w / 2, y + h / 2
    return np.stack([np.stack([x, cy], -1), np.stack([x + w, cy], -1),
                     np.stack([cx, y], -1), np.stack([cx, y + h], -1)], axis=1)  # fmt: skip


def warp_tlwh(boxes: np.ndarray, h: np.ndarray) -> np.ndarray:
    """tlwh boxes (N, 4) through the homography ``h`` (module docstring: edge midpoints,
    axis-aligned bounds; boxes that would land behind the camera are returned unchanged)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return boxes.copy()
    pts, front = warp_points(np.asarray(h, dtype=np.float64), _midpoints(boxes))
    x1, x2 = np.minimum(pts[:, 0, 0], pts[:, 1, 0]), np.maximum(pts[:, 0, 0], pts[:, 1, 0])
    y1, y2 = np.minimum(pts[:, 2, 1], pts[:, 3, 1]), np.maximum(pts[:, 2, 1], pts[:, 3, 1])
    out = np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
    ok = front.all(axis=1)
    out[~ok] = boxes[~ok]
    return out


def jacobian(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Jacobians (N, 2, 2) of the homography's pixel map at points (N, 2)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    a = pts @ h[0, :2] + h[0, 2]
    b = pts @ h[1, :2] + h[1, 2]
    w = pts @ h[2, :2] + h[2, 2]
    w = np.where(np.abs(w) > _MIN_DEPTH, w, _MIN_DEPTH)
    jac = np.empty((len(pts), 2, 2))
    for col in range(2):
        jac[:, 0, col] = (h[0, col] * w - a * h[2, col]) / w**2
        jac[:, 1, col] = (h[1, col] * w - b * h[2, col]) / w**2
    return jac


def warp_kalman(mean: np.ndarray, cov: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kalman states (mean (N, 8) ``cx, cy, a, h`` + velocities, covariance (N, 8, 8)) through
    the homography ``h``, linearised per box (module docstring). Rows whose box would land
    behind the camera are returned unchanged."""
    mean = np.asarray(mean, dtype=np.float64).reshape(-1, 8)
    cov = np.asarray(cov, dtype=np.float64).reshape(-1, 8, 8)
    if not len(mean):
        return mean.copy(), cov.copy()
    h = np.asarray(h, dtype=np.float64)
    boxes = xyah_to_tlwh(mean[:, :4])
    xyah = tlwh_to_xyah(warp_tlwh(boxes, h))
    _, front = warp_points(h, _midpoints(boxes))
    ok = front.all(axis=1) & (mean[:, 2] > 0) & (mean[:, 3] > 0)
    lin = np.repeat(np.eye(8)[None], len(mean), axis=0)
    jac = jacobian(h, mean[:, :2])
    scale_a = np.where(ok, xyah[:, 2] / np.where(ok, mean[:, 2], 1.0), 1.0)
    scale_h = np.where(ok, xyah[:, 3] / np.where(ok, mean[:, 3], 1.0), 1.0)
    for base in (0, 4):
        lin[ok, base:base + 2, base:base + 2] = jac[ok]
        lin[:, base + 2, base + 2] = scale_a
        lin[:, base + 3, base + 3] = scale_h
    new_mean = (lin @ mean[:, :, None])[:, :, 0]
    new_mean[ok, :4] = xyah[ok]
    new_cov = lin @ cov @ np.transpose(lin, (0, 2, 1))
    return new_mean, new_cov
