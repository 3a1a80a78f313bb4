"""Run the real Snakemake workflow in a scratch folder with the tiny config."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEFILE = ROOT / "Snakefile"
TINY = ROOT / "tests" / "configs" / "tiny.yaml"


def shadow_repo(workdir: Path) -> Path:
    """A copy of the workflow and the package sources in ``workdir/repo``: `snakemake` then
    runs that Snakefile, whose code inputs are the copied modules, so a test can edit (touch)
    one without disturbing other tests. Jobs still run the installed package (same code)."""
    repo = workdir / "repo"
    if not repo.is_dir():
        repo.mkdir()
        shutil.copy2(SNAKEFILE, repo / "Snakefile")
        for folder in ("workflow", "envs"):
            shutil.copytree(ROOT / folder, repo / folder)
        shutil.copytree(ROOT / "src" / "nuscmot", repo / "src" / "nuscmot",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return repo


def snakefile(workdir: Path) -> Path:
    """The workdir's shadow Snakefile (:func:`shadow_repo`) if it has one, else the repo's."""
    shadow = workdir / "repo" / "Snakefile"
    return shadow if shadow.is_file() else SNAKEFILE


def tiny_config(workdir: Path, relative: bool = False) -> dict:
    """The tiny config with its outputs below ``workdir``: absolute paths, or (``relative``)
    paths relative to it, as a user's config has them (Snakemake runs in ``workdir``)."""
    cfg = yaml.safe_load(TINY.read_text())
    base = Path() if relative else workdir
    cfg["results"] = str(base / "results")
    cfg["dataset"]["dataroot"] = str(base / "data" / "nuscenes-synth")
    return cfg


def write_config(workdir: Path, cfg: dict) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    """`snakemake -s <repo>/Snakefile --configfile <workdir>/config.yaml ARGS` in `workdir`."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.setdefault("OMP_NUM_THREADS", "1")
    # the repo's own default profile (a quiet console) only where a test names a profile
    profile = () if "--workflow-profile" in args else ("--workflow-profile", "none")
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(snakefile(workdir)), *profile,
        "--configfile", str(workdir / "config.yaml"), "--cores", "1", *args,
    ]
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        logs = ""
        for log in sorted((workdir / "results" / "logs").glob("*.log")):
            logs += f"\n--- {log.name} (tail)\n" + "\n".join(log.read_text().splitlines()[-25:])
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-6000:]}{logs}")
    return proc


def planned_jobs(workdir: Path, *targets: str) -> Counter:
    """Jobs a dry run would execute, counted per rule (parsed from 'Job stats')."""
    out = snakemake(workdir, "--dry-run", *targets).stdout
    counts: Counter = Counter()
    if "Nothing to be done" in out:
        return counts
    block = out.split("Job stats:", 1)[1]
    for line in block.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        if m.group(1) != "total":
            counts[m.group(1)] = int(m.group(2))
    return counts


def with_change(cfg: dict, dotted: str, value) -> dict:
    new = copy.deepcopy(cfg)
    node = new
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return new
