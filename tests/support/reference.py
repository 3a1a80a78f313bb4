"""Per-box reference 2D boxes, the way the devkit's ``export_2d_annotations_as_json`` makes them.

Used by the tests and ``benchmarks/convert.py`` to check (and time against) the
vectorised :mod:`nuscmot.data.geometry`. One annotation at a time: ``nusc.get_box``,
``Box.translate/rotate`` into the camera frame, corners with ``z > 0``, ``view_points``,
then the devkit's own ``post_process_coords`` (shapely) with the image's real size.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def shapely_hull_bounds(points: Sequence[Sequence[float]], width: float, height: float) -> tuple[float, float, float, float] | None:
    """Bounds of ``MultiPoint(points).convex_hull ∩ box(0, 0, width, height)``; None if empty."""
    from shapely.geometry import MultiPoint, box

    hull = MultiPoint([tuple(p) for p in points]).convex_hull
    inter = hull.intersection(box(0, 0, width, height))
    if inter.is_empty:
        return None
    return tuple(float(v) for v in inter.bounds)


def devkit_boxes_2d(nusc, sample_data_token: str, annotation_tokens: Sequence[str]) -> dict[str, tuple[float, float, float, float] | None]:
    """``{annotation token: (x1, y1, x2, y2) or None}`` in one camera image, per the devkit script.

    Follows ``get_2d_boxes`` of ``export_2d_annotations_as_json``: records of the
    sample_data once, then one annotation at a time. The devkit's ``post_process_coords``
    assumes 1600x900 and fails on degenerate hulls (a point or a segment has no
    ``exterior``); here it gets the image's real size, and a degenerate intersection falls
    back to its shapely bounds.
    """
    from nuscenes.scripts.export_2d_annotations_as_json import post_process_coords
    from nuscenes.utils.geometry_utils import view_points
    from pyquaternion import Quaternion

    sd_rec = nusc.get("sample_data", sample_data_token)
    cs_rec = nusc.get("calibrated_sensor", sd_rec["calibrated_sensor_token"])
    pose_rec = nusc.get("ego_pose", sd_rec["ego_pose_token"])
    camera_intrinsic = np.array(cs_rec["camera_intrinsic"])
    imsize = (sd_rec["width"], sd_rec["height"])

    out: dict[str, tuple[float, float, float, float] | None] = {}
    for token in annotation_tokens:
        box = nusc.get_box(token)
        box.translate(-np.array(pose_rec["translation"]))
        box.rotate(Quaternion(pose_rec["rotation"]).inverse)
        box.translate(-np.array(cs_rec["translation"]))
        box.rotate(Quaternion(cs_rec["rotation"]).inverse)

        corners_3d = box.corners()
        in_front = np.argwhere(corners_3d[2, :] > 0).flatten()
        corners_3d = corners_3d[:, in_front]
        corner_coords = view_points(corners_3d, camera_intrinsic, True).T[:, :2].tolist()
        if not corner_coords:
            out[token] = None
            continue
        try:
            out[token] = post_process_coords(corner_coords, imsize)
        except AttributeError:  # degenerate intersection (no polygon exterior)
            out[token] = shapely_hull_bounds(corner_coords, *imsize)
    return out
