"""The ``synth`` config slice as a typed, validated dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.fields import AT_LEAST_0, UNIT, check_fields, limited

PARAMS_SOURCE = "--params"
WHERE = f"{PARAMS_SOURCE}:synth"  # as from_dict names the slice

LIGHTING_KINDS = ("clear", "overcast", "dusk", "night", "rain")


@dataclass(frozen=True)
class LightingMix:
    """Relative frequency of each lighting kind per scene (normalised; nuScenes-like default)."""

    clear: float = limited(0.42, **AT_LEAST_0)
    overcast: float = limited(0.26, **AT_LEAST_0)
    dusk: float = limited(0.10, **AT_LEAST_0)
    night: float = limited(0.12, **AT_LEAST_0)
    rain: float = limited(0.10, **AT_LEAST_0)

    def __post_init__(self) -> None:
        check_fields(self, f"{WHERE}.lighting")
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

    seed: int = limited(0, **AT_LEAST_0)
    scene_offset: int = limited(0, minimum=0, maximum=8999)  # scene names from scene-{offset + 1:04d} (disjoint worlds)
    train_scenes: int = limited(14, minimum=1, maximum=9999)  # convert needs >= 2 (detector train and val)
    val_scenes: int = limited(6, minimum=1, maximum=9999)
    frames_per_scene: int = limited(40, minimum=2, maximum=400)
    image_width: int = limited(800, minimum=64, maximum=1600)
    image_height: int = limited(450, minimum=36, maximum=900)
    jpeg_quality: int = limited(90, minimum=10, maximum=100)
    min_objects: int = limited(6, minimum=0, maximum=200)
    max_objects: int = limited(28, minimum=1, maximum=200)
    distractor_fraction: float = limited(0.15, **UNIT)
    lighting: LightingMix = LightingMix()

    def __post_init__(self) -> None:
        check_fields(self, WHERE)
        if self.max_objects < self.min_objects:
            raise InputError(
                PARAMS_SOURCE,
                f"synth.max_objects ({self.max_objects}) must be >= synth.min_objects ({self.min_objects})",
                key="max_objects",
            )

    @property
    def n_scenes(self) -> int:
        return self.train_scenes + self.val_scenes


def synth_config(slice_: dict[str, Any] | None) -> SynthConfig:
    """Build the config from the ``synth`` slice; unknown keys and bad values are InputErrors."""
    if slice_ is not None and not isinstance(slice_, dict):
        raise InputError(PARAMS_SOURCE, "synth config must be a mapping", key="cfg")
    return from_dict(SynthConfig, slice_, where=WHERE)


def check_convertible(cfg: SynthConfig, where: str = WHERE) -> None:
    """The pipeline's own need of a world, beyond what the generator accepts: ``convert``
    splits the train scenes into detector train and detector val, so it needs two."""
    if cfg.train_scenes < 2:
        raise InputError(where, f"train_scenes must be >= 2 for convert (detector train and val scenes), "
                                f"got {cfg.train_scenes}", key="train_scenes")


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
