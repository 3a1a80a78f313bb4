"""The ``synth`` config slice as a typed, validated dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError

PARAMS_SOURCE = "--params"

# key -> (minimum, maximum) as in workflow/schemas/data.schema.yaml#/$defs/synth
_INT_RANGES: dict[str, tuple[int, int | None]] = {
    "seed": (0, None),
    "scene_offset": (0, 8999),
    "train_scenes": (1, 9999),
    "val_scenes": (1, 9999),
    "frames_per_scene": (2, 400),
    "image_width": (64, 1600),
    "image_height": (36, 900),
    "jpeg_quality": (10, 100),
    "min_objects": (0, 200),
    "max_objects": (1, 200),
}


LIGHTING_KINDS = ("clear", "overcast", "dusk", "night", "rain")


@dataclass(frozen=True)
class LightingMix:
    """Relative frequency of each lighting kind per scene (normalised; nuScenes-like default)."""

    clear: float = 0.42
    overcast: float = 0.26
    dusk: float = 0.10
    night: float = 0.12
    rain: float = 0.10

    def __post_init__(self) -> None:
        for kind in LIGHTING_KINDS:
            value = getattr(self, kind)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InputError(PARAMS_SOURCE, f"synth.lighting.{kind} must be a number >= 0, got {value!r}",
                                 key=kind)
        if sum(self.weights) <= 0:
            raise InputError(PARAMS_SOURCE, "synth.lighting: at least one kind needs a weight > 0", key="lighting")

    @property
    def weights(self) -> list[float]:
        return [float(getattr(self, kind)) for kind in LIGHTING_KINDS]

    @property
    def probabilities(self) -> list[float]:
        w = self.weights
        return [x / sum(w) for x in w]


@dataclass(frozen=True)
class SynthConfig:
    """How many scenes, how long, how big the images, how crowded (see config.yaml ``synth``)."""

    seed: int = 0
    scene_offset: int = 0         # scene names start at scene-{offset + 1:04d} (disjoint worlds)
    train_scenes: int = 14
    val_scenes: int = 6
    frames_per_scene: int = 40
    image_width: int = 800
    image_height: int = 450
    jpeg_quality: int = 90
    min_objects: int = 6
    max_objects: int = 28
    distractor_fraction: float = 0.15
    lighting: LightingMix = LightingMix()

    def __post_init__(self) -> None:
        for key, (lo, hi) in _INT_RANGES.items():
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(PARAMS_SOURCE, f"synth.{key} must be an integer, got {value!r}", key=key)
            if value < lo or (hi is not None and value > hi):
                bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
                raise InputError(PARAMS_SOURCE, f"synth.{key} must be {bound}, got {value}", key=key)
        if self.max_objects < self.min_objects:
            raise InputError(
                PARAMS_SOURCE,
                f"synth.max_objects ({self.max_objects}) must be >= synth.min_objects ({self.min_objects})",
                key="max_objects",
            )
        frac = self.distractor_fraction
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0.0 <= frac <= 1.0:
            raise InputError(PARAMS_SOURCE, f"synth.distractor_fraction must be a number in [0, 1], got {frac!r}",
                             key="distractor_fraction")

    @property
    def n_scenes(self) -> int:
        return self.train_scenes + self.val_scenes


def synth_config(slice_: dict[str, Any] | None) -> SynthConfig:
    """Build the config from the ``synth`` slice; unknown keys and bad values are InputErrors."""
    if slice_ is not None and not isinstance(slice_, dict):
        raise InputError(PARAMS_SOURCE, "synth config must be a mapping", key="cfg")
    return from_dict(SynthConfig, slice_, where=f"{PARAMS_SOURCE}:synth")


def check_disjoint_worlds(demo: SynthConfig, other: SynthConfig, where: str = "pretrain.synth") -> None:
    """Two synthetic worlds share nothing: different seeds (every token is a hash of the seed)
    and non-overlapping scene numbers (scene names). An InputError names what collides."""
    if demo.seed == other.seed:
        raise InputError(where, f"seed {other.seed} is the demo's own (synth.seed): the worlds would share tokens",
                         key="seed")
    a = range(demo.scene_offset + 1, demo.scene_offset + demo.n_scenes + 1)
    b = range(other.scene_offset + 1, other.scene_offset + other.n_scenes + 1)
    if a.start < b.stop and b.start < a.stop:
        raise InputError(where, f"scenes {b.start}-{b.stop - 1} overlap the demo's {a.start}-{a.stop - 1} "
                                "(raise scene_offset)", key="scene_offset")
