"""Benchmark: `convert` at v1.0-trainval scale, no GPU and no nuScenes download needed.

Builds (once, in ``--cache``) a tables-only nuScenes set the size of v1.0-trainval
(:mod:`nuscmot.synthetic.tables_only`: the 850 official scene names, 34k samples, ~2.64M
``sample_data`` / ``ego_pose`` rows, ~1.16M annotations, empty camera keyframe files), then
measures, each in its own subprocess:

- reference: the devkit's ``NuScenes(version, dataroot)`` load alone (wall, peak RSS);
- ``python -m nuscmot.stages.convert`` with the command line of ``workflow/rules/data.smk``
  and the config's ``convert`` slice (wall, peak RSS, the time split from its phase log
  lines, output counts and sizes);
- ``snakemake -n all`` on a config pointing at the set (``dataset.synthetic: false``).

Targets (2 CPU cores): convert's peak RSS <= 1.04 x the devkit load's (it adds nothing
that stays: the devkit is released before the output phase) and <= 8.5 GB; wall <= 3 min.

    python benchmarks/convert_scale.py --cache /work/scale-cache          # full scale, ~5 min, ~9 GB
    python benchmarks/convert_scale.py --cache /tmp/s --samples-per-scene 4 --no-sweeps   # a quick look

The cache must lie outside the repository; the set is rebuilt only when its size options change.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's package, also for the subprocesses below
from nuscmot.common.phases import PHASE_LINE  # noqa: E402

VERSION = "v1.0-trainval"
TARGET_RATIO = 1.04
TARGET_PEAK_GB = 8.5
TARGET_WALL_S = 180.0
DEVKIT_LOAD = "from nuscenes.nuscenes import NuScenes; import sys; NuScenes(sys.argv[2], sys.argv[1], verbose=False)"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH", "")]))
    return env


def measure(cmd: list[str], log_path: Path | None = None, cwd: Path | None = None) -> dict[str, float]:
    """Run ``cmd``; wall and CPU seconds (CPU time does not grow when other work shares the cores)
    and peak RSS (GB): the kernel's ru_maxrss of the process (wait4) and the largest sum over its
    process tree sampled every 0.2 s (psutil)."""
    out = open(log_path, "w") if log_path else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=child_env())
    tree_peak = [0]
    stop = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
            while not stop.wait(0.2):
                procs = [root] + root.children(recursive=True)
                tree_peak[0] = max(tree_peak[0], sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.Error:
            pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    sampler.join()
    if log_path:
        out.close()
    if proc.returncode:
        tail = log_path.read_text()[-2000:] if log_path else ""
        raise SystemExit(f"{cmd[2] if len(cmd) > 2 else cmd[0]} failed (exit {proc.returncode}){': ' + tail if tail else ''}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_gb": usage.ru_maxrss * 1024 / 1e9,
            "tree_peak_rss_gb": tree_peak[0] / 1e9}


def build_set(cache: Path, args: argparse.Namespace) -> tuple[Path, dict]:
    """The tables-only set in ``cache/nuscenes-trainval`` (rebuilt when the size options differ)."""
    dataroot = cache / "nuscenes-trainval"
    stamp = cache / "tables_only.json"
    opts = {"samples_per_scene": args.samples_per_scene, "instances_per_scene": args.instances_per_scene,
            "sweeps": not args.no_sweeps, "seed": 0}
    if stamp.is_file() and (dataroot / VERSION / "sample_data.json").is_file():
        info = json.loads(stamp.read_text())
        if info["options"] == opts:
            return dataroot, {**info, "reused": True}
    cmd = [sys.executable, "-m", "nuscmot.synthetic.tables_only", "--dataroot", str(dataroot),
           "--samples-per-scene", str(opts["samples_per_scene"]),
           "--instances-per-scene", str(opts["instances_per_scene"])] + (["--no-sweeps"] if args.no_sweeps else [])
    log = cache / "tables_only.log"
    run = measure(cmd, log)
    info = {"options": opts, "rows": json.loads(log.read_text().strip().splitlines()[-1])["rows"], **run}
    stamp.write_text(json.dumps(info, indent=1))
    return dataroot, {**info, "reused": False}


def convert_command(config: dict, dataroot: Path, out: Path) -> list[str]:
    """data.smk's convert command line, outputs under ``out`` (results/ layout)."""
    params = json.dumps({"cfg": config["convert"], "version": VERSION})
    paths = {"coco-train": "coco/train.json", "coco-val": "coco/val.json", "coco-test": "coco/test_front.json",
             "mot-dir": "mot/test", "seqmap": "mot/seqmaps/test.txt", "traj-train": "trajectories/train.parquet",
             "traj-val": "trajectories/val.parquet", "splits": "splits.json", "tune-mot-dir": "mot/tune",
             "tune-seqmap": "mot/seqmaps/tune.txt"}
    cmd = [sys.executable, "-m", "nuscmot.stages.convert", "--params", params, "--dataroot", str(dataroot)]
    for flag, rel in paths.items():
        cmd += [f"--{flag}", str(out / rel)]
    return cmd


def phase_split(log_text: str) -> dict[str, dict[str, float]]:
    """Seconds per phase (repeated phases summed), the peak RSS so far and the RSS at the phase's end
    (largest of its repeats), from the log."""
    phases: dict[str, dict[str, float]] = {}
    for m in re.finditer(PHASE_LINE, log_text):
        entry = phases.setdefault(m["phase"], {"seconds": 0.0, "peak_rss_gb": 0.0, "rss_gb": 0.0})
        entry["seconds"] += float(m["seconds"])
        entry["peak_rss_gb"] = max(entry["peak_rss_gb"], float(m["gb"]))
        entry["rss_gb"] = max(entry["rss_gb"], float(m["now"]))
    return phases


def output_figures(out: Path, log_text: str) -> dict:
    m = re.search(r"converted \S+: (\{.*\})", log_text)
    summary = json.loads(m.group(1)) if m else {}
    coco_bytes = sum((out / "coco" / f).stat().st_size for f in ("train.json", "val.json", "test_front.json"))
    all_bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    seqs = {k: len((out / "mot" / "seqmaps" / f"{k}.txt").read_text().split()) - 1 for k in ("test", "tune")}
    return {"coco_images": summary.get("images"), "coco_annotations": summary.get("annotations"),
            "scenes": summary.get("scenes"), "coco_json_gb": coco_bytes / 1e9, "outputs_gb": all_bytes / 1e9,
            "sequences": seqs, "mot_gt_rows": summary.get("mot_gt_rows"),
            "trajectory_rows": summary.get("trajectory_rows")}


def dry_run(config: dict, dataroot: Path, cache: Path) -> dict:
    """``snakemake -n all`` with the config pointed at the set: seconds, job count, or the failure line."""
    work = cache / "workdir"
    work.mkdir(exist_ok=True)
    cfg = dict(config)
    cfg["dataset"] = {"dataroot": str(dataroot), "version": VERSION, "synthetic": False}
    cfg["results"] = str(work / "results")
    cfg_path = work / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--configfile", str(cfg_path),
           "-n", "--cores", "2", "all"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env=child_env())
    seconds = time.perf_counter() - start
    text = proc.stdout + proc.stderr
    total = re.search(r"^total\s+(\d+)", text, re.M)
    result = {"seconds": seconds, "exit": proc.returncode, "jobs": int(total.group(1)) if total else None}
    if proc.returncode:
        result["error"] = text.strip().splitlines()[-1] if text.strip() else ""
    pretrained = Path(config["detector"]["pretrained"])
    result["pretrained"] = f"{pretrained} ({'present' if (work / pretrained).is_file() else 'absent'} in the workdir)"
    return result


def report(figures: dict) -> str:
    s, dev, conv, out, dry = (figures[k] for k in ("set", "devkit", "convert", "outputs", "dry_run"))
    ratio = conv["peak_rss_gb"] / dev["peak_rss_gb"]
    ok = ratio <= TARGET_RATIO and conv["peak_rss_gb"] <= TARGET_PEAK_GB and conv["wall_s"] <= TARGET_WALL_S
    rows = s["rows"]
    lines = [
        f"set: {rows['scene']} scenes, {rows['sample']} samples, {rows['sample_data']} sample_data, "
        f"{rows['ego_pose']} ego_pose, {rows['sample_annotation']} annotations, {rows['instance']} instances"
        f" ({'reused' if s['reused'] else 'written'}: {s['wall_s']:.0f} s, {s['peak_rss_gb']:.2f} GB peak)",
        f"devkit NuScenes() alone: {dev['wall_s']:.1f} s ({dev['cpu_s']:.1f} s CPU), peak RSS {dev['peak_rss_gb']:.2f} GB",
        f"convert: {conv['wall_s']:.1f} s ({conv['cpu_s']:.1f} s CPU), peak RSS {conv['peak_rss_gb']:.2f} GB "
        f"(process tree, sampled: {conv['tree_peak_rss_gb']:.2f} GB)",
        "convert phases (RSS at the end / peak so far): " + ", ".join(
            f"{k} {v['seconds']:.1f} s ({v['rss_gb']:.2f} / {v['peak_rss_gb']:.2f} GB)" for k, v in figures["phases"].items()),
        f"outputs: COCO images {out['coco_images']}, annotations {out['coco_annotations']}, "
        f"COCO JSON {out['coco_json_gb']:.3f} GB (all outputs {out['outputs_gb']:.3f} GB), "
        f"sequences test {out['sequences']['test']} / tune {out['sequences']['tune']}, scenes {out['scenes']}",
        f"snakemake -n all: {dry['seconds']:.1f} s, exit {dry['exit']}, {dry['jobs']} jobs; "
        f"pretrained {dry['pretrained']}" + (f"; error: {dry['error']}" if dry.get("error") else ""),
        f"ratio convert / devkit peak RSS: {ratio:.3f} (target <= {TARGET_RATIO}); "
        f"peak {conv['peak_rss_gb']:.2f} GB (target <= {TARGET_PEAK_GB}); wall {conv['wall_s']:.0f} s "
        f"(target <= {TARGET_WALL_S:.0f}) -> {'OK' if ok else 'MISSED'}",
    ]
    if conv["wall_s"] > 1.3 * conv["cpu_s"]:  # convert is one process on one core: wall ~ CPU when alone
        lines.append(f"note: wall {conv['wall_s']:.0f} s is {conv['wall_s'] / conv['cpu_s']:.1f} x convert's CPU time: "
                     "other work shared the cores; rerun on an idle machine for the wall figure")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", required=True, type=Path, help="folder for the set and the outputs (outside the repo)")
    p.add_argument("--config", type=Path, default=ROOT / "config.yaml", help="reads its convert slice (and the rest for -n)")
    p.add_argument("--samples-per-scene", type=int, default=40)
    p.add_argument("--instances-per-scene", type=int, default=76)
    p.add_argument("--no-sweeps", action="store_true", help="keyframe rows only (a quick, small set)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()
    cache = args.cache.resolve()
    if cache == ROOT or ROOT in cache.parents:
        raise SystemExit(f"error: {cache}: the cache must lie outside the repository")
    cache.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(args.config.read_text())
    dataroot, set_info = build_set(cache, args)
    devkit = measure([sys.executable, "-c", DEVKIT_LOAD, str(dataroot), VERSION])
    out = cache / "out"
    conv = measure(convert_command(config, dataroot, out), cache / "convert.log")
    log_text = (cache / "convert.log").read_text()
    figures = {"set": set_info, "devkit": devkit, "convert": conv, "phases": phase_split(log_text),
               "outputs": output_figures(out, log_text), "dry_run": dry_run(config, dataroot, cache),
               "cpus": os.cpu_count()}
    text = report(figures)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0 if "-> OK" in text else 1


if __name__ == "__main__":
    sys.exit(main())
