"""Tools of the reliability tests: entry points and Snakemake as real subprocesses, kills,
fault injection, file hashes, and session results shared between pytest-xdist workers."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

import yaml
from e2e.workflow import ROOT, SNAKEFILE, TINY

FAULTINJECT = Path(__file__).resolve().parent / "faultinject"
# What a killed atomic writer leaves behind (nuscmot.common.io): `.<name>.<random>.tmp`
# files/folders and `.<name>.old.<pid>` folders.
LEFTOVER = re.compile(r"^\..+\.(tmp|old\.\d+)$")
CONVERT_OUTPUTS = ("results/coco/train.json", "results/coco/val.json", "results/coco/test_front.json",
                   "results/mot/test", "results/mot/seqmaps/test.txt", "results/trajectories/train.parquet",
                   "results/trajectories/val.parquet", "results/splits.json")


# ---- configs / environments -------------------------------------------------------------
def reliability_config() -> dict:
    """The tiny config with paths relative to the workdir (a copied workdir, .snakemake
    metadata included, is an up-to-date clone) and tracking on GT-derived detections (the
    tiny detector detects nothing), so the tracking and evaluation outputs compared between
    runs are not empty."""
    cfg = yaml.safe_load(TINY.read_text())
    cfg["tracking"]["sources"] = ["gt"]
    cfg["gt_detections"]["seeds"] = [0]  # one draw, one TrackSSM seed, the config's settings:
    cfg["trackssm"]["seeds"] = [0]  # what is checked here is writing and resuming, not tuning
    cfg["compare"]["use_tuned"] = False
    return cfg


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra or {})
    return env


def fault_env(target: str, path_part: str, scope: str) -> dict[str, str]:
    """Environment that makes ``faultinject/sitecustomize.py`` SIGKILL a process.

    ``target``: ``module:function`` writing an output file (first argument its path);
    ``path_part``: a substring of that path; ``scope``: ``group`` (the whole process group:
    Snakemake and its job, like a power loss) or ``self`` (only the job).
    """
    pythonpath = os.pathsep.join(p for p in (str(FAULTINJECT), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": pythonpath, "NUSCMOT_FAULT": f"{target}|{path_part}|{scope}"}


# ---- running things -----------------------------------------------------------------------
def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    # the repo's default profile (as a user runs it: rerun-incomplete, a quiet console)
    return [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--configfile", str(workdir / "config.yaml"),
            "--cores", "1", *args]


def run_snakemake(workdir: Path, *args: str, env: dict[str, str] | None = None,
                  timeout: int = 900) -> subprocess.CompletedProcess:
    """Snakemake in its own session (process group), waited for; never raises on failure."""
    return subprocess.run(snakemake_cmd(workdir, *args), cwd=workdir, env=subprocess_env(env), capture_output=True,
                          text=True, timeout=timeout, start_new_session=True)


def start_snakemake(workdir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Snakemake started in its own process group (kill it with :func:`kill_group`)."""
    with open(workdir / "snakemake.out", "w") as out:  # (the child keeps its own descriptor)
        return subprocess.Popen(snakemake_cmd(workdir, *args), cwd=workdir, env=subprocess_env(env), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (Snakemake and every job) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    # jobs run in Snakemake's process group; make sure none survives to write later
    deadline = time.monotonic() + 30
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition: Callable[[], object], proc: subprocess.Popen, timeout: float, what: str,
             interval: float = 0.02) -> object:
    """Poll ``condition`` until truthy; fail if ``proc`` ends first or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"the process ended (rc {proc.returncode}) before {what}")
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def run_entry(stage: str, args: Iterable[str | Path], *, timeout: int = 300,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m nuscmot.stages.<stage> ARGS`` as the rules run it; never raises on failure."""
    cmd = [sys.executable, "-m", f"nuscmot.stages.{stage}", *map(str, args)]
    return subprocess.run(cmd, cwd=ROOT, env=subprocess_env(env), capture_output=True, text=True, timeout=timeout)


def stderr_lines(stderr: str) -> list[str]:
    """Non-empty lines of stderr (progress bars' carriage returns split lines too)."""
    return [ln.strip() for ln in stderr.replace("\r", "\n").splitlines() if ln.strip()]


def params_json(value: dict) -> str:
    """A config slice as the rules pass it (``slice_json`` in workflow/rules/common.smk)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# ---- files ---------------------------------------------------------------------------------
def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_hashes(root: Path, include: Callable[[str], bool]) -> dict[str, str]:
    """``{relative path: sha256}`` of every file below ``root`` that ``include`` accepts."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and include(rel):
            out[rel] = sha256(path)
    return out


def leftovers(*roots: Path) -> list[str]:
    """Temp files/folders of interrupted atomic writes below ``roots``."""
    found = []
    for root in roots:
        for path in root.rglob(".*"):
            if LEFTOVER.match(path.name):
                found.append(str(path))
    return sorted(found)


# ---- session results shared between xdist workers ----------------------------------------
@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def shared_once(tmp_path_factory, worker_id: str, name: str, build: Callable[[Path], None]) -> Path:
    """A folder built once per test session by ``build(folder)``, whichever xdist worker asks
    first (the others wait for it); without xdist, simply built in this session's temp dir."""
    if worker_id == "master":
        base = tmp_path_factory.getbasetemp()
    else:  # the session's temp dir shared by all workers (pytest-of-<user>/pytest-<n>)
        base = tmp_path_factory.getbasetemp().parent
    folder = base / f"reliability-{name}"
    with _locked(base / f".reliability-{name}.lock"):
        done = folder / ".built"
        failed = folder / ".failed"
        if failed.exists():
            raise AssertionError(f"building {name} failed in another worker:\n{failed.read_text()}")
        if not done.exists():
            folder.mkdir(parents=True, exist_ok=True)
            try:
                build(folder)
            except BaseException as exc:
                failed.write_text(f"{type(exc).__name__}: {exc}"[-8000:])
                raise
            done.touch()
    return folder
