"""The package's import graph: no circles, and the closure the workflow lists as code inputs."""

from __future__ import annotations

import textwrap

import pytest

from nuscmot.common.imports import SRC_ROOT, closure, closure_files, import_cycles
from nuscmot.tracking.models import REGISTRY, foreign_modules


def test_no_import_circle_inside_nuscmot():
    assert import_cycles() == []


def _package(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / "nuscmot" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_closure_follows_absolute_relative_lazy_and_submodule_imports(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "entry.py": "from nuscmot.a import b\nfrom .c import thing\n",
        "a/__init__.py": "",
        "a/b.py": "def f():\n    from ..d import g  # lazy\n",
        "c.py": "import os\nthing = 1\n",
        "d.py": "import numpy\n",
        "unused.py": "",
    })
    assert closure("nuscmot.entry", root=root) == [
        "nuscmot", "nuscmot.a", "nuscmot.a.b", "nuscmot.c", "nuscmot.d", "nuscmot.entry",
    ]
    assert closure("nuscmot.entry", prune=("nuscmot.a",), root=root) == ["nuscmot", "nuscmot.c", "nuscmot.entry"]


def test_circle_is_found(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "", "x.py": "from nuscmot import y\n", "y.py": "import nuscmot.x\n",
    })
    assert import_cycles(root) == [["nuscmot.x", "nuscmot.y"]]


MODEL_STAGES = ("run_tracker", "sweep_block", "pick_tuned")  # one job per tracker run: model_code()


def _job_closure(stage: str, model: str) -> list[str]:
    """What the workflow lists as code of ``stage``'s job for ``model`` (common.smk's model_code)."""
    prune = tuple(f"nuscmot.{m}" for m in foreign_modules(model))
    return closure(f"nuscmot.stages.{stage}", prune=prune)


def _below(module: str, prefixes) -> bool:
    return any(module == f"nuscmot.{p}" or module.startswith(f"nuscmot.{p}.") for p in prefixes)


@pytest.mark.parametrize("stage", MODEL_STAGES)
@pytest.mark.parametrize("model", list(REGISTRY))
def test_a_model_job_lists_no_other_models_module(stage, model):
    """Editing TrackSSM never reruns a Kalman (or iou) job, and the other way round."""
    job = _job_closure(stage, model)
    assert [m for m in job if _below(m, foreign_modules(model))] == []
    full = closure(f"nuscmot.stages.{stage}")
    for other, spec in REGISTRY.items():  # the unpruned stage reaches every model
        assert any(_below(m, spec.modules) for m in full), other


@pytest.mark.parametrize("stage", MODEL_STAGES)
@pytest.mark.parametrize("model", list(REGISTRY))
def test_pruning_never_drops_what_the_model_runs(stage, model):
    """Everything the model's factory and config can import stays an input of its jobs."""
    spec = REGISTRY[model]
    runs = set(closure(spec.factory.__module__)) | set(closure(spec.config.__module__))
    assert sorted(runs - set(_job_closure(stage, model))) == []


def test_every_model_owns_its_modules():
    """Each model names at least one module, none is another model's, and its factory and
    config live below its own modules (so a model's edit reruns its own jobs)."""
    for name, spec in REGISTRY.items():
        assert spec.modules, name
        for where in (spec.factory.__module__, spec.config.__module__):
            assert _below(where, spec.modules), (name, where)
        assert not set(spec.modules) & set(foreign_modules(name)), name


def test_closure_files_exist_below_the_source_root():
    files = closure_files("nuscmot.stages.compare_idsw")
    assert files and all(f.is_file() and SRC_ROOT in f.parents for f in files)
    assert SRC_ROOT / "nuscmot" / "evaluation" / "compare.py" in files
