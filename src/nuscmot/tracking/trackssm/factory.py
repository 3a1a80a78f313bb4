"""How the tracker builds the ``trackssm`` motion model: the checkpoint is loaded (and traced)
once per run, then each sequence gets a fresh :class:`~nuscmot.tracking.trackssm.motion.TrackSSMMotion`
after checking that it matches what the model was trained on (frame rate, image size).

Torch-free at import (the registry, :mod:`nuscmot.tracking.models`, is read when the Snakefile
is parsed): torch and the model load inside :func:`trackssm_factory`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from nuscmot.tracking.motion import MotionFactory, MotionModel
from nuscmot.tracking.trackssm.config import WHERE, TrackSSMMotionConfig

log = logging.getLogger(__name__)


def trackssm_factory(cfg: TrackSSMMotionConfig, checkpoint: str) -> MotionFactory:
    """Loads (and traces) the model once; each sequence is checked against what the model was
    trained on (frame rate, image size)."""
    import torch

    from nuscmot.common.device import resolve_device
    from nuscmot.tracking.trackssm.checkpoint import load_checkpoint

    torch.set_num_threads(1)  # one small batched forward per frame: threads only add overhead
    model, trained_on, meta = load_checkpoint(checkpoint, resolve_device(cfg.device, WHERE))
    trained_steps = (meta.get("trackssm") or {}).get("rollout_steps")
    if isinstance(trained_steps, int) and cfg.rollout_horizon > trained_steps:
        log.warning("rollout_horizon %d exceeds the %d-step rollouts %s was trained on",
                    cfg.rollout_horizon, trained_steps, checkpoint)
    if cfg.jit:  # trace now, outside the timed tracking
        model.traced_predictor(next(model.parameters()).device)
    return lambda info, seqinfo: _sequence_motion(cfg, model, trained_on, checkpoint, info, seqinfo)


def _sequence_motion(cfg: TrackSSMMotionConfig, model, trained_on, checkpoint: str, info, seqinfo: Path) -> MotionModel:
    """A fresh adapter of the loaded model for one sequence, refused (or warned, with
    ``allow_rate_mismatch`` / ``allow_size_mismatch``) where the sequence's frame rate or image
    size is not the model's (:func:`nuscmot.tracking.trackssm.checkpoint.check_geometry`)."""
    from nuscmot.tracking.trackssm.checkpoint import check_geometry
    from nuscmot.tracking.trackssm.motion import TrackSSMMotion

    check_geometry(trained_on, info, seqinfo, cfg, checkpoint)
    return TrackSSMMotion(model, info.width, info.height, jit=cfg.jit, rollout_horizon=cfg.rollout_horizon,
                          rollout_fallback=cfg.rollout_fallback)
