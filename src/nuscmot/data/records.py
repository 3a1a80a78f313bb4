"""Records shared by the conversion steps: one camera keyframe and its kept 2D boxes.

:mod:`nuscmot.data.convert` builds them; :mod:`.coco`, :mod:`.mot_gt` and
:mod:`.trajectories` write them out. Kept apart so that none of those imports the converter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuscmot.data.cam_pose import CameraPose


@dataclass
class ImageBoxes:
    """One camera keyframe and its kept 2D boxes (sorted by instance token)."""

    scene_name: str
    scene_token: str
    camera: str
    frame_index: int  # 0-based keyframe index in the scene
    sample_data_token: str
    timestamp: int
    file_name: str  # relative to the dataroot
    width: int
    height: int
    xyxy: np.ndarray  # (K, 4) float64
    class_ids: np.ndarray  # (K,) int64, 1-based
    visibility: np.ndarray  # (K,) int64, nuScenes level 1-4
    instance_tokens: list[str]
    annotation_tokens: list[str]
    pose: CameraPose | None = None  # camera -> global pose and intrinsics (:mod:`.cam_pose`)
