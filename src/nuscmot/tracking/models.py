"""The motion-model registry: every motion model the tracker can run, one entry each.

A motion model is one module (its :class:`~nuscmot.tracking.motion.MotionModel` subclass, the
frozen dataclass of its ``tracking.motion.<name>`` config slice, and a factory building a
per-sequence :data:`~nuscmot.tracking.motion.MotionFactory` from that config and an optional
checkpoint) plus one :class:`MotionSpec` in :data:`REGISTRY`. Everything else reads the
registry: the tracking and sweep stages (``--tracker`` choices, config slices), the sweep grid
(each model's keys), run names (a learned model runs once per training seed) and the
workflow (checkpoint inputs, code inputs pruned of other models' modules). The JSON schemas
in ``workflow/schemas/`` stay files; ``tests/test_config_schema.py`` checks they list exactly
these models and slices. README: "Add a motion model".

Torch-free at import (the Snakefile reads it): a model's heavy imports stay inside its factory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.tracking.iou import IoUConfig, iou_factory
from nuscmot.tracking.kalman import KalmanConfig, kalman_factory
from nuscmot.tracking.motion import MotionFactory
from nuscmot.tracking.trackssm.config import TrackSSMMotionConfig
from nuscmot.tracking.trackssm.factory import trackssm_factory


@dataclass(frozen=True)
class MotionSpec:
    """One motion model.

    ``name``: its name in ``tracking.trackers``, run names and paths; ``config``: the frozen
    dataclass of its ``tracking.motion.<name>`` slice (defaults and ranges, may have no field);
    ``factory(config, checkpoint)``: the per-sequence model factory of one run; ``learned``:
    trained once per seed (``trackssm.seeds``), one run per seed (``<name>-s<N>``), each with
    its seed's checkpoint ``results/<name>/seed<N>/model.pt``; ``modules``: the ``nuscmot``
    modules (dotted, below ``nuscmot.``; a package covers its submodules) that only this model
    runs, left out of the other models' code inputs; ``description``: one line.
    """

    name: str
    config: type
    factory: Callable[[Any, str | None], MotionFactory]
    description: str
    learned: bool = False
    modules: tuple[str, ...] = ()


REGISTRY: dict[str, MotionSpec] = {spec.name: spec for spec in (
    MotionSpec("kalman", KalmanConfig, kalman_factory, modules=("tracking.kalman",),
               description="constant-velocity Kalman filter over (cx, cy, aspect, h), ByteTrack's noise rate-scaled"),
    MotionSpec("trackssm", TrackSSMMotionConfig, trackssm_factory, learned=True, modules=("tracking.trackssm",),
               description="TrackSSM, a learned state-space model over the last boxes (Hu et al. 2024)"),
    MotionSpec("iou", IoUConfig, iou_factory, modules=("tracking.iou",),
               description="no motion: a track's predicted box is its last observed box (the floor)"),
)}


def names() -> tuple[str, ...]:
    """Every registered motion model, in registry order."""
    return tuple(REGISTRY)


def learned() -> tuple[str, ...]:
    """The models trained per seed (one run per seed, each with its seed's checkpoint)."""
    return tuple(name for name, spec in REGISTRY.items() if spec.learned)


def spec(name: str, where: str = "--tracker") -> MotionSpec:
    """The entry of ``name``; an unknown name is an :class:`InputError` naming ``where``."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise InputError(where, f"unknown motion model {name!r} (known: {', '.join(REGISTRY)})") from None


def motion_slices() -> dict[str, type]:
    """``tracking.motion.<name>`` -> its config dataclass, for every model (stages' SLICES)."""
    return {f"tracking.motion.{name}": s.config for name, s in REGISTRY.items()}


def motion_config(name: str, data: dict[str, Any] | None) -> Any:
    """The model's ``tracking.motion.<name>`` slice from a plain dict (strict: unknown keys and
    bad values are :class:`InputError` naming the key)."""
    return from_dict(spec(name).config, data, where=f"tracking.motion.{name}")


def motion_factory(name: str, motion_cfg: dict[str, Any] | None, checkpoint: str | None) -> MotionFactory:
    """A fresh model of ``name`` per sequence, under its motion slice ``motion_cfg`` (and, for a
    learned model, its checkpoint)."""
    cfg = motion_config(name, motion_cfg)
    if spec(name).learned and not checkpoint:
        raise InputError("--model", f"the {name} tracker needs its trained checkpoint (--model)")
    return spec(name).factory(cfg, checkpoint)


def foreign_modules(name: str) -> tuple[str, ...]:
    """The modules of every other model that ``name`` does not share: a job of ``name`` never
    runs them, so they are pruned from its code inputs (editing TrackSSM never reruns a Kalman
    job)."""
    own = spec(name).modules
    return tuple(sorted({m for other, s in REGISTRY.items() if other != name for m in s.modules if m not in own}))
