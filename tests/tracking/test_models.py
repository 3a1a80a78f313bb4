"""The motion-model registry: torch-free at import (the Snakefile reads it), one well-formed
entry per model, and the helpers every stage and rule reads it through."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from nuscmot.common.errors import InputError
from nuscmot.common.mot import SeqInfo
from nuscmot.tracking.models import REGISTRY, foreign_modules, learned, motion_config, motion_factory, motion_slices
from nuscmot.tracking.models import names, spec
from nuscmot.tracking.motion import MotionModel


def test_the_registry_imports_without_torch():
    code = ("import sys; import nuscmot.tracking.models, nuscmot.sweep.grid as g; g.parameter_types(); "
            "print(sorted(m for m in ('torch', 'torchvision', 'yolox') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_entry_is_well_formed(name):
    s = REGISTRY[name]
    assert s.name == name and name.isidentifier() and name.islower()
    assert dataclasses.is_dataclass(s.config) and s.config.__dataclass_params__.frozen
    assert s.config() == motion_config(name, {})  # the dataclass owns every default
    assert s.description and "\n" not in s.description
    assert all(not m.startswith("nuscmot.") for m in s.modules)


def test_names_learned_and_slices():
    assert names() == ("kalman", "trackssm", "iou")
    assert learned() == ("trackssm",)
    assert list(motion_slices()) == [f"tracking.motion.{n}" for n in names()]
    assert foreign_modules("kalman") == ("tracking.iou", "tracking.trackssm")
    assert foreign_modules("trackssm") == ("tracking.iou", "tracking.kalman")


@pytest.mark.parametrize("name", [n for n in REGISTRY if not REGISTRY[n].learned])
def test_a_deterministic_model_builds_a_fresh_model_per_sequence(name):
    make = motion_factory(name, {}, None)
    info = SeqInfo(name="s", length=5, width=800, height=450)
    a, b = make(info, None), make(info, None)
    assert isinstance(a, MotionModel) and a is not b and len(a) == 0


def test_a_learned_model_needs_its_checkpoint():
    with pytest.raises(InputError, match=r"^--model: the trackssm tracker needs its trained checkpoint \(--model\)$"):
        motion_factory("trackssm", {}, None)


def test_unknown_model_and_bad_slice_are_one_line_errors():
    with pytest.raises(InputError, match=r"^--tracker: unknown motion model 'nope' \(known: kalman, trackssm, iou\)$"):
        spec("nope")
    with pytest.raises(InputError, match=r"^tracking\.motion\.kalman \[std_weight_velocity\]: "):
        motion_factory("kalman", {"std_weight_velocity": -1.0}, None)
