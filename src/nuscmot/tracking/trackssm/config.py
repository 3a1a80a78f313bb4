"""The ``tracking.motion.trackssm`` config slice (torch-free, so that the sweep planner can
read its keys when the Snakefile is parsed)."""

from __future__ import annotations

from dataclasses import dataclass

from nuscmot.common.device import DEVICES
from nuscmot.common.fields import AT_LEAST_1, check_fields, limited

FALLBACKS = ("hold", "constant_velocity")
WHERE = "tracking.motion.trackssm"


@dataclass(frozen=True)
class TrackSSMMotionConfig:
    """How the trained model runs inside the tracker.

    ``rollout_horizon``: how many frames after a track's last observation the model predicts
    it (step 1 is the ordinary next-frame prediction; steps 2.. roll forward on the model's own
    predictions, as training does for ``trackssm.rollout_steps`` steps); from the next frame on
    the box is held (``hold``) or moved by the last predicted step's centre displacement with
    its size held (``constant_velocity``), until the track is re-found or dies (``max_age_s``).
    ``size_tolerance``: a sequence's image size (``seqinfo.ini``) within this share of a training
    size, per side, counts as that size (KITTI: 1238x374 against 1242x375; logged).
    ``allow_rate_mismatch``: track a sequence whose frame rate differs from the model's training
    data (more than 5%); ``allow_size_mismatch``: one whose image size is beyond
    ``size_tolerance`` of every training size (each a warning instead of an error).
    """

    device: str = limited("auto", enum=DEVICES)
    jit: bool = True  # run a frozen TorchScript trace of the model (same ops, less overhead)
    rollout_horizon: int = limited(3, **AT_LEAST_1)
    rollout_fallback: str = limited("hold", enum=FALLBACKS)
    size_tolerance: float = limited(0.01, minimum=0, maximum=0.5)
    allow_rate_mismatch: bool = False
    allow_size_mismatch: bool = False

    def __post_init__(self) -> None:
        check_fields(self, WHERE)
