"""Pipeline benchmark: wall time and peak RSS of every rule, and `snakemake -n` time.

Aggregates Snakemake's `benchmark:` files (results/benchmarks/*.tsv) of a completed run into
one table, then times a dry run of the completed workflow (target: under 3 s) against a
reference measured in the same run: the dry run of the same workflow with nothing built
(DAG construction alone), so the ratio isolates the cost of the up-to-date checks.

    python benchmarks/pipeline.py                      # the tiny config, in a temp folder
    python benchmarks/pipeline.py --configfile config.yaml --workdir .   # the demo run
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, configfile: Path, *args: str) -> float:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
           "--configfile", str(configfile), *args]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=workdir, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def rule_table(bench_dir: Path) -> pd.DataFrame:
    rows = []
    for tsv in sorted(bench_dir.glob("*.tsv")):
        df = pd.read_csv(tsv, sep="\t")
        rows.append({"rule": tsv.stem, "wall_s": df["s"].iloc[-1], "peak_rss_mb": df["max_rss"].iloc[-1]})
    table = pd.DataFrame(rows).sort_values("wall_s", ascending=False)
    table["share"] = table["wall_s"] / table["wall_s"].sum()
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", type=Path, default=ROOT / "tests" / "configs" / "tiny.yaml")
    ap.add_argument("--workdir", type=Path, help="folder with a completed run (default: a fresh temp run)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    tmp = None
    if args.workdir is None:
        tmp = Path(tempfile.mkdtemp(prefix="nuscmot-bench-"))
        cfg = yaml.safe_load(args.configfile.read_text())
        cfg["results"] = str(tmp / "results")
        cfg["dataset"]["dataroot"] = str(tmp / "data" / "nuscenes-synth")
        args.configfile = tmp / "config.yaml"
        args.configfile.write_text(yaml.safe_dump(cfg))
        args.workdir = tmp
    cfg = yaml.safe_load(args.configfile.read_text())
    results = (args.workdir / cfg["results"]).resolve()
    try:
        empty = Path(tempfile.mkdtemp(prefix="nuscmot-empty-"))
        ref_cfg = dict(cfg, results=str(empty / "results"))
        ref_cfg["dataset"] = dict(cfg["dataset"], dataroot=str(empty / "data"))
        (empty / "config.yaml").write_text(yaml.safe_dump(ref_cfg))
        ref = min(snakemake(empty, empty / "config.yaml", "-n", "all") for _ in range(args.repeats))
        shutil.rmtree(empty, ignore_errors=True)

        built = snakemake(args.workdir, args.configfile, "--cores", "all", "all")
        dry = min(snakemake(args.workdir, args.configfile, "-n", "all") for _ in range(args.repeats))

        table = rule_table(results / "benchmarks")
        print(table.to_markdown(index=False, floatfmt=".2f"))
        print()
        print(f"snakemake all (this invocation, incl. anything stale): {built:.1f} s")
        print(f"snakemake -n on the completed workflow: {dry:.2f} s (target < 3 s: {'ok' if dry < 3 else 'MISSED'})")
        print(f"reference: snakemake -n with nothing built: {ref:.2f} s; ratio completed/reference: {dry / ref:.2f}")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
