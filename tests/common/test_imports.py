"""The package's import graph: no circles, and the closure the workflow lists as code inputs."""

from __future__ import annotations

import textwrap

from nuscmot.common.imports import SRC_ROOT, closure, closure_files, import_cycles


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


def test_kalman_tracking_job_does_not_list_trackssm():
    full = closure("nuscmot.stages.run_tracker")
    kalman = closure("nuscmot.stages.run_tracker",
                     prune=("nuscmot.tracking.trackssm.checkpoint", "nuscmot.tracking.trackssm.motion"))
    assert "nuscmot.tracking.trackssm.model" in full
    # a Kalman job reads the TrackSSM motion slice's dataclass (the stage's SLICES), never the model
    assert {m for m in kalman if m.startswith("nuscmot.tracking.trackssm")} == {
        "nuscmot.tracking.trackssm", "nuscmot.tracking.trackssm.config"}
    assert {"nuscmot.tracking.tracker", "nuscmot.tracking.kalman", "nuscmot.common.mot"} <= set(kalman)


def test_closure_files_exist_below_the_source_root():
    files = closure_files("nuscmot.stages.compare_idsw")
    assert files and all(f.is_file() and SRC_ROOT in f.parents for f in files)
    assert SRC_ROOT / "nuscmot" / "evaluation" / "compare.py" in files
