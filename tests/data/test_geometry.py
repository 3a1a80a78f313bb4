"""Projection + clipping (nuscmot.data.geometry) against the devkit and shapely."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nuscenes.utils.data_classes import Box
from nuscenes.utils.geometry_utils import view_points
from pyquaternion import Quaternion

from nuscmot.data.geometry import CameraView, box_corners, hull_image_bounds, project_boxes_2d, quaternion_to_matrix
from support.reference import shapely_hull_bounds

PROPS = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
W, H = 800.0, 450.0
K = np.array([[633.0, 0.0, 408.0], [0.0, 633.0, 232.0], [0.0, 0.0, 1.0]])

coord = st.floats(-2.0 * W, 3.0 * W, allow_nan=False, allow_infinity=False)
unit = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)


def _quat(values) -> np.ndarray:
    q = np.asarray(values, dtype=np.float64)
    if np.linalg.norm(q) < 1e-3:
        q = np.array([1.0, 0.0, 0.0, 0.0])
    return q / np.linalg.norm(q)


def _close(ours: np.ndarray, ref, scale: float) -> None:
    np.testing.assert_allclose(ours, np.asarray(ref, dtype=np.float64), rtol=1e-6, atol=1e-6 * scale)


def _agree(box: np.ndarray, hit: bool, ref, scale: float) -> None:
    """Same box as the reference; a mere touch (zero-size intersection) may be seen by one side only."""
    tol = 1e-6 * scale
    if bool(hit) and ref is not None:
        _close(box, ref, scale)
    elif hit:
        assert min(box[2] - box[0], box[3] - box[1]) <= tol, (box, ref)
    elif ref is not None:
        assert min(ref[2] - ref[0], ref[3] - ref[1]) <= tol, (box, ref)
    else:
        assert np.isnan(box).all()


@PROPS
@given(st.lists(st.tuples(coord, coord, st.booleans()), min_size=1, max_size=8))
def test_hull_bounds_match_shapely(points):
    pts = np.array([[p[0], p[1]] for p in points])[None]
    valid = np.array([p[2] for p in points])[None]
    xyxy, hit = hull_image_bounds(pts, valid, W, H)
    ref = shapely_hull_bounds(pts[0][valid[0]], W, H) if valid.any() else None
    _agree(xyxy[0], hit[0], ref, W)


def test_hull_bounds_image_inside_hull_and_degenerate():
    # The image lies inside a huge triangle: the box is the whole image.
    xyxy, hit = hull_image_bounds(np.array([[[-1e4, -1e4], [1e4, -1e4], [0.0, 1e4]]]), np.ones((1, 3), bool), W, H)
    assert hit[0] and np.allclose(xyxy[0], [0, 0, W, H])
    # A segment crossing the image (degenerate hull) and a point outside it.
    pts = np.array([[[-100.0, 100.0], [900.0, 200.0]], [[-5.0, -5.0], [-5.0, -5.0]]])
    xyxy, hit = hull_image_bounds(pts, np.ones((2, 2), bool), W, H)
    assert hit.tolist() == [True, False]
    _close(xyxy[0], shapely_hull_bounds(pts[0], W, H), W)


@PROPS
@given(st.lists(st.tuples(coord, coord, st.booleans(), st.sampled_from([(W, H), (1600.0, 900.0), (64.0, 36.0)])), min_size=2, max_size=16))
def test_hull_bounds_with_one_image_size_per_row(rows):
    """Rows of 2 points each, every row with its own image size (multi-camera batches)."""
    rows = rows[: len(rows) // 2 * 2]
    pts = np.array([[r[0], r[1]] for r in rows]).reshape(-1, 2, 2)
    valid = np.array([r[2] for r in rows]).reshape(-1, 2)
    sizes = np.array([r[3] for r in rows[::2]])
    xyxy, hit = hull_image_bounds(pts, valid, sizes[:, 0], sizes[:, 1])
    for n in range(len(pts)):
        ref = shapely_hull_bounds(pts[n][valid[n]], *sizes[n]) if valid[n].any() else None
        _agree(xyxy[n], hit[n], ref, sizes[n, 0])


@PROPS
@given(st.tuples(unit, unit, unit, unit))
def test_quaternion_matrix_matches_pyquaternion(q):
    q = _quat(q)
    np.testing.assert_allclose(quaternion_to_matrix(q), Quaternion(q).rotation_matrix, atol=1e-12)


@PROPS
@given(
    st.tuples(coord, coord, coord),
    st.tuples(st.floats(0.1, 20), st.floats(0.1, 20), st.floats(0.1, 5)),
    st.tuples(unit, unit, unit, unit),
)
def test_box_corners_match_devkit(center, wlh, q):
    q = _quat(q)
    ours = box_corners(np.array([center]), np.array([wlh]), np.array([q]))[0]
    ref = Box(list(center), list(wlh), Quaternion(q)).corners().T
    np.testing.assert_allclose(ours, ref, atol=1e-9 * (1 + np.abs(center).max()))


def _devkit_style(center, wlh, q_box, ego, calib, width, height):
    """Per-box reference: the devkit's Box moves + view_points + shapely hull ∩ image."""
    box = Box(list(center), list(wlh), Quaternion(q_box))
    box.translate(-np.array(ego["translation"]))
    box.rotate(Quaternion(ego["rotation"]).inverse)
    box.translate(-np.array(calib["translation"]))
    box.rotate(Quaternion(calib["rotation"]).inverse)
    corners = box.corners()
    corners = corners[:, corners[2, :] > 0]
    if corners.shape[1] == 0:
        return None
    pts = view_points(corners, np.array(calib["camera_intrinsic"]), True).T[:, :2]
    return shapely_hull_bounds(pts, width, height)


# A camera looking along the ego x axis (nuScenes CAM_FRONT-like), ego at a random pose.
CAM_ROT = Quaternion(axis=[0, 0, 1], angle=-np.pi / 2) * Quaternion(axis=[1, 0, 0], angle=-np.pi / 2)


@settings(PROPS, max_examples=100)
@given(
    st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)),  # ego position
    st.floats(-np.pi, np.pi),  # ego yaw
    st.lists(
        st.tuples(
            st.floats(-8.0, 50.0),  # depth along the camera axis: includes boxes behind and straddling it
            st.floats(-30.0, 30.0),  # lateral
            st.floats(-3.0, 3.0),  # height
            st.floats(0.3, 6.0), st.floats(0.3, 15.0), st.floats(0.5, 4.0),  # w, l, h
            st.floats(-np.pi, np.pi),  # box yaw
            st.floats(-0.3, 0.3),  # box pitch (not flat on the ground)
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_projection_matches_devkit_per_box(ego_xy, ego_yaw, boxes):
    ego = {"translation": [ego_xy[0], ego_xy[1], 0.0], "rotation": list(Quaternion(axis=[0, 0, 1], angle=ego_yaw).elements)}
    calib = {"translation": [1.7, 0.0, 1.5], "rotation": list(CAM_ROT.elements), "camera_intrinsic": K.tolist()}
    ego_q = Quaternion(ego["rotation"])
    centers, sizes, quats = [], [], []
    for depth, lateral, z, w, l, h, yaw, pitch in boxes:
        local = np.array([1.7 + depth, lateral, 1.5 + z])
        centers.append(ego_q.rotate(local) + np.array(ego["translation"]))
        sizes.append([w, l, h])
        q = ego_q * Quaternion(axis=[0, 0, 1], angle=yaw) * Quaternion(axis=[0, 1, 0], angle=pitch)
        quats.append(q.elements)
    # A second camera, turned to the left, with another image size: both are projected in one call.
    calib2 = {"translation": [1.5, 0.5, 1.5], "rotation": list((Quaternion(axis=[0, 0, 1], angle=0.9) * CAM_ROT).elements),
              "camera_intrinsic": (K * [[0.8], [0.8], [1.0]]).tolist()}
    cams = [(calib, W, H), (calib2, 640.0, 360.0)]
    corners = box_corners(np.array(centers), np.array(sizes), np.array(quats))
    xyxy, hit = project_boxes_2d(corners, [CameraView.from_records(ego, c, w, h) for c, w, h in cams])
    assert xyxy.shape == (2, len(boxes), 4)
    for c, (cal, w, h) in enumerate(cams):
        for n in range(len(boxes)):
            ref = _devkit_style(centers[n], sizes[n], quats[n], ego, cal, w, h)
            _agree(xyxy[c, n], hit[c, n], ref, w)


def test_partially_behind_camera_keeps_front_corners_only():
    """A long box straddling the image plane: only the in-front corners are projected (devkit)."""
    ego = {"translation": [0.0, 0.0, 0.0], "rotation": [1.0, 0.0, 0.0, 0.0]}
    calib = {"translation": [0.0, 0.0, 0.0], "rotation": list(CAM_ROT.elements), "camera_intrinsic": K.tolist()}
    center, wlh, q = [1.0, 2.0, 0.0], [2.0, 10.0, 1.5], [1.0, 0.0, 0.0, 0.0]
    view = [CameraView.from_records(ego, calib, W, H)]
    xyxy, hit = project_boxes_2d(box_corners([center], [wlh], [q]), view)
    xyxy, hit = xyxy[0], hit[0]
    ref = _devkit_style(center, wlh, q, ego, calib, W, H)
    assert hit[0] and ref is not None
    _close(xyxy[0], ref, W)
    # Entirely behind: nothing.
    xyxy, hit = project_boxes_2d(box_corners([[-20.0, 0.0, 0.0]], [wlh], [q]), view)
    assert not hit[0, 0]


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_single(n):
    xyxy, hit = hull_image_bounds(np.zeros((n, 8, 2)), np.zeros((n, 8), bool), W, H)
    assert xyxy.shape == (n, 4) and not hit.any()
