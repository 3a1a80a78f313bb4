"""README "Add a motion model", followed literally: on a copy of the repository (src/,
workflow/, Snakefile, config.yaml and the schema tests), each of the five steps is applied as
file edits, adding a real constant-velocity model ``cv``; then the copy's registry lists it,
its schema-agreement tests pass, the sweep grid knows its key, ``snakemake -n compare_idsw``
plans its tracking jobs and ``run_tracker`` tracks a simulated sequence with it. Every check
runs the copy's code in a subprocess (``PYTHONPATH=<copy>/src``), never this checkout's.

The README's step headings must be exactly :data:`STEPS` (same numbers, same words)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from support.simulate import simulate_scene

ROOT = Path(__file__).resolve().parents[1]
NAME = "cv"

# The module of step 1: constant velocity from the last two observations.
CV_MODULE = '''
"""The ``cv`` motion model: constant velocity from a track's last two observations.

A track's box moves by ``velocity_weight`` times the centre displacement per frame measured
between its last two observations (zero after the first), its size held.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuscmot.common.fields import UNIT, check_fields, limited
from nuscmot.tracking.ego import warp_tlwh
from nuscmot.tracking.motion import MotionFactory, MotionModel, keep_rows


@dataclass(frozen=True)
class CVConfig:
    """The ``tracking.motion.cv`` slice."""

    velocity_weight: float = limited(1.0, **UNIT)

    def __post_init__(self) -> None:
        check_fields(self, "tracking.motion.cv")


class CVMotion(MotionModel):
    def __init__(self, velocity_weight: float = 1.0) -> None:
        super().__init__()
        self.weight = velocity_weight
        self.box = np.zeros((0, 4))  # predicted box, tlwh
        self.obs = np.zeros((0, 4))  # last observed box
        self.vel = np.zeros((0, 2))  # centre displacement per frame
        self.since = np.zeros(0, dtype=np.int64)  # frames since the last observation

    def start(self, ids, boxes):
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.ids = np.concatenate([self.ids, np.asarray(ids, dtype=np.int64)])
        self.box, self.obs = np.concatenate([self.box, boxes]), np.concatenate([self.obs, boxes])
        self.vel = np.concatenate([self.vel, np.zeros((len(boxes), 2))])
        self.since = np.concatenate([self.since, np.zeros(len(boxes), dtype=np.int64)])

    def predict(self, ids):
        r = self.rows(ids)
        self.box[r, :2] += self.weight * self.vel[r]
        self.since[r] += 1
        return self.box[r].copy()

    def update(self, ids, boxes):
        r = self.rows(ids)
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.vel[r] = (boxes[:, :2] - self.obs[r, :2]) / np.maximum(self.since[r], 1)[:, None]
        self.box[r], self.obs[r], self.since[r] = boxes, boxes, 0

    def reanchor(self, ids, boxes, gaps):
        self.update(ids, boxes)  # the velocity over the gap: the straight line joining them

    def warp(self, homography):
        self.box, self.obs = warp_tlwh(self.box, homography), warp_tlwh(self.obs, homography)

    def remove(self, ids):
        keep = keep_rows(self.ids, ids)
        for name in ("ids", "box", "obs", "vel", "since"):
            setattr(self, name, getattr(self, name)[keep])


def cv_factory(cfg: CVConfig, checkpoint: str | None = None) -> MotionFactory:
    return lambda info, seqinfo: CVMotion(cfg.velocity_weight)
'''
ENTRY = '''    MotionSpec("cv", CVConfig, cv_factory, modules=("tracking.cv",),
               description="constant velocity from the last two observations"),
'''
FIELD = {"type": "number", "minimum": 0, "maximum": 1}


def step_1_write_the_module(repo: Path) -> None:
    (repo / "src" / "nuscmot" / "tracking" / f"{NAME}.py").write_text(CV_MODULE.lstrip())


def step_2_add_one_registry_entry(repo: Path) -> None:
    path = repo / "src" / "nuscmot" / "tracking" / "models.py"
    text = path.read_text()
    first_model_import = "from nuscmot.tracking.iou import"
    assert first_model_import in text and "\n)}\n" in text
    text = text.replace(first_model_import, f"from nuscmot.tracking.cv import CVConfig, cv_factory\n{first_model_import}")
    path.write_text(text.replace("\n)}\n", f"\n{ENTRY})}}\n", 1))


def step_3_add_its_schema_entries(repo: Path) -> None:
    folder = repo / "workflow" / "schemas"
    tracking = yaml.safe_load((folder / "tracking.schema.yaml").read_text())
    node = tracking["$defs"]["tracking"]["properties"]
    node["trackers"]["items"]["enum"].append(NAME)
    node["motion"]["properties"][NAME] = {"type": "object", "additionalProperties": False, "properties": {
        "velocity_weight": {**FIELD, "default": 1.0}}}
    (folder / "tracking.schema.yaml").write_text(yaml.safe_dump(tracking, sort_keys=False))
    sweep = yaml.safe_load((folder / "sweep.schema.yaml").read_text())
    sweep["$defs"]["sweep"]["properties"]["motion"]["properties"][NAME] = {
        "type": "object", "additionalProperties": False, "properties": {
            "velocity_weight": {"type": "array", "minItems": 1, "uniqueItems": True, "items": FIELD}}}
    (folder / "sweep.schema.yaml").write_text(yaml.safe_dump(sweep, sort_keys=False))


def step_4_list_it_in_tracking_trackers(repo: Path) -> None:
    path = repo / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["tracking"]["trackers"].append(NAME)
    config["tracking"]["motion"][NAME] = {"velocity_weight": 1.0}
    config["sweep"].setdefault("motion", {})[NAME] = {"velocity_weight": [0.5, 1.0]}
    path.write_text(yaml.safe_dump(config, sort_keys=False))


STEPS = {  # README heading -> the edit of that step (step 5 is the checks below)
    "1. Write the module": step_1_write_the_module,
    "2. Add one registry entry": step_2_add_one_registry_entry,
    "3. Add its schema entries": step_3_add_its_schema_entries,
    "4. List it in tracking.trackers": step_4_list_it_in_tracking_trackers,
    "5. Run the tests and the comparison": None,
}


def readme_steps() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Add a motion model\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^### (\d+\. .+)$", section, flags=re.M)


def test_the_readme_lists_these_steps():
    assert readme_steps() == list(STEPS)


def copy_repo(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for folder in ("src", "workflow", "envs", "tests/support", "tests/configs"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    for name in ("Snakefile", "config.yaml", "pyproject.toml", "tests/conftest.py", "tests/test_config_schema.py"):
        shutil.copy2(ROOT / name, dest / name)
    (dest / "weights").symlink_to(ROOT / "weights")  # the demo's pretrained detector, checked at load
    return dest


def run(repo: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """``python ARGS`` in ``repo`` with only the copy's sources importable."""
    env = {**os.environ, "PYTHONPATH": str(repo / "src"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = copy_repo(tmp_path_factory.mktemp("added"))
    for step in STEPS.values():
        if step is not None:
            step(repo)
    return repo


def test_the_registry_lists_it(repo):
    code = ("from nuscmot.tracking import models; s = models.spec('cv'); "
            "print(models.names(), s.learned, s.config.__module__, models.foreign_modules('kalman'))")
    out = run(repo, "-c", code).stdout.strip()
    assert out == ("('kalman', 'trackssm', 'iou', 'cv') False nuscmot.tracking.cv "
                   "('tracking.cv', 'tracking.iou', 'tracking.trackssm')")


def test_the_schema_agreement_passes_on_the_copy(repo):
    out = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_config_schema.py").stdout
    assert re.search(r"\d+ passed", out) and "failed" not in out, out[-2000:]
    assert "motion.cv" in run(repo, "-m", "pytest", "-q", "--co", "tests/test_config_schema.py").stdout


def test_the_sweep_grid_knows_its_key(repo):
    code = textwrap.dedent("""
        import yaml
        from nuscmot.sweep import grid
        from nuscmot.sweep.plan import SweepPlan
        plan = SweepPlan(yaml.safe_load(open("config.yaml")))
        print(grid.parameter_types()["cv__velocity_weight"].__name__, len(plan.cells["cv"]), len(plan.cells["iou"]))
    """)
    kind, n_cv, n_iou = run(repo, "-c", code).stdout.split()
    assert kind == "float" and int(n_cv) == 2 * int(n_iou) > 0  # its two values times the association cells


def test_snakemake_plans_its_jobs(repo):
    out = run(repo, "-m", "snakemake", "-n", "compare_idsw", "--workflow-profile", "none", "--cores", "1",
              "-p", timeout=180).stdout
    sources = yaml.safe_load((repo / "config.yaml").read_text())["tracking"]["sources"]
    for source in sources:  # every source run tracks with cv (GT-derived: one per draw)
        assert re.search(rf"--tracker cv .*--out-dir results/tracking/{source}(-d\d+)?/cv ", out), source
    tracker_inputs = [line for line in out.splitlines() if re.match(r"\s+input: results/detections/", line)]
    cv_jobs = [line for line in tracker_inputs if "tracking/cv.py" in line]
    assert cv_jobs and all("tracking/kalman.py" not in line and "trackssm" not in line for line in cv_jobs)
    assert all("tracking/cv.py" not in line for line in tracker_inputs if "tracking/kalman.py" in line)


def test_run_tracker_tracks_a_sequence_with_it(repo, tmp_path):
    from nuscmot.common.mot import SeqInfo, read_mot, write_mot, write_seqinfo, write_seqmap

    mot = tmp_path / "mot"
    write_seqinfo(mot / "sim" / "seqinfo.ini", SeqInfo(name="sim", length=12, width=800, height=450))
    gt = simulate_scene(np.random.default_rng(0), 12, 6, respawn=True)
    write_mot(mot / "sim" / "gt" / "gt.txt", gt, "gt")
    dets = np.column_stack([gt[:, 0], -np.ones(len(gt)), gt[:, 2:6], np.full(len(gt), 0.9), gt[:, 7],
                            -np.ones((len(gt), 2))])
    write_mot(tmp_path / "dets" / "sim.txt", dets, "det")
    write_seqmap(tmp_path / "seqmap.txt", ["sim"])
    params = json.dumps({"cfg": {}, "motion": {"velocity_weight": 1.0}})
    run(repo, "-m", "nuscmot.stages.run_tracker", "--params", params, "--tracker", NAME, "--dets-dir",
        str(tmp_path / "dets"), "--mot-dir", str(mot), "--seqmap", str(tmp_path / "seqmap.txt"),
        "--out-dir", str(tmp_path / "out"))
    rows = read_mot(tmp_path / "out" / "sim.txt", "result")
    assert len(rows) > 0.5 * len(gt) and json.loads((tmp_path / "out" / "settings.json").read_text())["tracker"] == NAME
