"""Two full runs of the tiny DAG, built once per test session and shared by the reliability
tests (also across pytest-xdist workers, see :func:`.harness.shared_once`):

- ``reference_run``: ``snakemake all infer`` from scratch, uninterrupted;
- ``interrupted_run``: the same in another folder, but SIGKILLed twice mid-write (a power
  loss while ``convert`` writes; after ``--unlock`` and a rerun, the Kalman tracking job
  alone) and resumed; every step is recorded in ``steps.json`` for the tests to check.

Both use :func:`.harness.reliability_config` (the tiny config, workdir-relative paths).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from e2e.workflow import write_config

from .harness import CONVERT_OUTPUTS, fault_env, leftovers, reliability_config, run_snakemake

TARGETS = ("all", "results/detections/detector")  # (`all` tracks GT-derived detections; infer runs the detector too)


def _check(proc, what: str) -> None:
    if proc.returncode != 0:
        raise AssertionError(f"{what} failed ({proc.returncode}):\n{proc.stderr[-5000:]}")


def build_reference(workdir: Path) -> None:
    write_config(workdir, reliability_config())
    _check(run_snakemake(workdir, *TARGETS), "snakemake " + " ".join(TARGETS))


def build_interrupted(workdir: Path) -> None:
    write_config(workdir, reliability_config())
    steps = {}

    def step(name: str, *args: str, env=None, watch=()):
        t0 = time.monotonic()
        proc = run_snakemake(workdir, *args, env=env)
        steps[name] = {"rc": proc.returncode, "seconds": round(time.monotonic() - t0, 1), "stderr": proc.stderr[-6000:],
                       "exists": {p: (workdir / p).exists() for p in watch},
                       "leftovers": [str(Path(p).relative_to(workdir)) for p in leftovers(workdir / "results")]}
        (workdir / "steps.json").write_text(json.dumps(steps, indent=1))
        return proc

    # 1. power loss (Snakemake and the job SIGKILLed) while convert writes train.parquet,
    #    the COCO files already in their temp files, nothing renamed into place yet
    step("power_loss_in_convert", *TARGETS, watch=CONVERT_OUTPUTS,
         env=fault_env("nuscmot.data.trajectories:write_trajectories", "train.parquet", "group"))
    # 2. remove Snakemake's stale lock (test_train_faults shows the rerun that needs this)
    step("unlock", "--unlock")
    # 3. resume; the Kalman tracking job is SIGKILLed (alone) while writing its first sequence
    step("job_killed_in_tracking", *TARGETS, watch=("results/tracking/gt-d0/kalman",),
         env=fault_env("nuscmot.common.mot:write_mot", "results/tracking/gt-d0/.kalman.", "self"))
    # 4. resume to the end
    _check(step("resume", *TARGETS), "the resumed run")


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory, worker_id) -> Path:
    from .harness import shared_once

    return shared_once(tmp_path_factory, worker_id, "reference", build_reference)


@pytest.fixture(scope="session")
def interrupted_run(tmp_path_factory, worker_id) -> Path:
    from .harness import shared_once

    return shared_once(tmp_path_factory, worker_id, "interrupted", build_interrupted)


@pytest.fixture(scope="session")
def interrupted_steps(interrupted_run) -> dict:
    return json.loads((interrupted_run / "steps.json").read_text())
