"""Run the real Snakemake workflow in a scratch folder with the tiny config."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEFILE = ROOT / "Snakefile"
TINY = ROOT / "tests" / "configs" / "tiny.yaml"


def tiny_config(workdir: Path) -> dict:
    cfg = yaml.safe_load(TINY.read_text())
    cfg["results"] = str(workdir / "results")
    cfg["dataset"]["dataroot"] = str(workdir / "data" / "nuscenes-synth")
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
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE),
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
