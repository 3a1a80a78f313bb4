"""What tracking reads of one sequence: its ``seqinfo.ini`` (frame rate checked), its
detections (scores checked after the score transform) and its camera-rotation homographies
(ego-motion compensation). Shared by ``run_tracker``, the sweep blocks and
``check_detections``, which runs no motion model (so it does not import the registry).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.mot import SeqInfo, read_dets, read_seqinfo
from nuscmot.tracking.scores import ScoreTransform, checked_scores


def read_sequence(path: Path) -> SeqInfo:
    """A sequence's ``seqinfo.ini``; a frame rate that is not positive is an error (``max_age_s``
    is converted to frames with it)."""
    info = read_seqinfo(path)
    if not info.frame_rate > 0:
        raise InputError(path, f"frameRate must be > 0, got {info.frame_rate:g}")
    return info


def read_detections(path: Path, info: SeqInfo, transform: ScoreTransform) -> np.ndarray:
    """A sequence's detections (:func:`nuscmot.common.mot.read_dets`: a missing file is an
    error), scores checked to lie in [0, 1] after ``transform``."""
    return checked_scores(read_dets(path, info.length), path, transform)


def camera_homographies(seq_dir: Path, info: SeqInfo) -> np.ndarray:
    """(length, 3, 3) frame-to-frame rotation homographies of one sequence from its pose file."""
    from nuscmot.data.cam_pose import CAM_POSE_FILE, read_cam_poses
    from nuscmot.tracking.ego import sequence_homographies

    poses = read_cam_poses(seq_dir / CAM_POSE_FILE, info.length)
    return sequence_homographies(poses.rotations, poses.intrinsic)
