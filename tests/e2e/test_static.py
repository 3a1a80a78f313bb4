"""The workflow as text: lint-clean, snakefmt-formatted, config validated in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .workflow import ROOT, snakemake, tiny_config, with_change, write_config


def test_snakefmt_clean():
    proc = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_lint_clean(tmp_path):
    write_config(tmp_path, tiny_config(tmp_path))
    proc = snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_default_profile_sets_cores_and_gpu_limit():
    import yaml

    profile = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert profile["cores"] == "all"
    assert "gpu=1" in profile["resources"]


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("convert.min_box_size", -1, "invalid config at convert.min_box_size: -1 is less than the minimum of 0"),
        ("detector.model", "yolox_huge", "invalid config at detector.model: 'yolox_huge' is not one of"),
        ("tracking.association.max_age_s", "thirty", "invalid config at tracking.association.max_age_s: 'thirty' is not of type 'number'"),
        ("evaluation.iou", 0.5, "invalid config at evaluation: Additional properties are not allowed ('iou' was unexpected)"),
        # the generator accepts one train scene, convert needs two: checked at load, not after synth
        ("synth.train_scenes", 1, "invalid config: synth [train_scenes]: train_scenes must be >= 2 for convert"),
    ],
)
def test_bad_config_value_is_one_line_naming_the_key(tmp_path, key, value, expected):
    cfg = with_change(tiny_config(tmp_path), key, value)
    config = write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "--dry-run", check=False)
    assert proc.returncode != 0
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if expected in ln]
    assert lines, proc.stderr
    assert lines[0].startswith(f"{config}: ")


def test_tuned_settings_without_a_sweep_is_one_line(tmp_path):
    """compare.use_tuned (the dataclass's default: also when the slice is absent) needs a
    sweep grid to tune on: refused when the workflow loads, not after hours of training."""
    cfg = tiny_config(tmp_path)
    del cfg["compare"], cfg["sweep"]
    config = write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "--dry-run", check=False)
    assert proc.returncode != 0
    expected = f"{config}: invalid config: compare [use_tuned]: the tuned settings need a sweep.grid"
    assert [ln for ln in proc.stderr.splitlines() if ln.startswith(expected)], proc.stderr[-2000:]


def test_every_rule_has_log_and_benchmark():
    import re

    text = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    rules = re.split(r"\n\s*rule ", text)[1:]
    assert len(rules) >= 9
    for body in rules:
        name = body.split(":", 1)[0]
        assert "log:" in body and "benchmark:" in body, name
        assert "shell:" in body and "python -m nuscmot." in body, name


FULL_DAG = {  # the tiny config: 3 source runs (detector, 2 GT draws) x 3 tracker runs (Kalman, 2 seeds)
    "synth": 1, "convert": 1, "gt_detections": 2, "gt_detections_tune": 1, "train": 1, "evaluate_detector": 1,
    "infer": 1, "infer_tune": 1, "train_trackssm": 2, "heldout_trackssm": 2, "sweep_block": 6, "pick_tuned": 6,
    "sweep_tracking": 1, "run_tracker": 9, "evaluate_tracker": 9, "run_tracker_ego": 4, "evaluate_tracker_ego": 4,
    "compare_idsw": 1, "switches": 3, "gallery": 1, "report_summary": 1, "all": 1,
}


@pytest.mark.parametrize("profile", ["default", "verbose", "slurm", "kubernetes"])
def test_profile_dry_run_plans_the_whole_dag(tmp_path, profile):
    """Each profile parses and plans every job (no cluster needed for a dry run)."""
    from .workflow import planned_jobs

    write_config(tmp_path, tiny_config(tmp_path))
    args = ("--workflow-profile", str(ROOT / "profiles" / profile), "all")
    assert dict(planned_jobs(tmp_path, *args)) == FULL_DAG


def train_command(tmp_path, *args: str) -> str:
    """The `train` job's shell command as a dry run prints it."""
    write_config(tmp_path, tiny_config(tmp_path))
    out = snakemake(tmp_path, "train", "--dry-run", "--printshellcmds", *args).stdout  # args take nargs="+"
    return next(ln for ln in out.splitlines() if "python -m nuscmot.stages.train" in ln)


def test_train_runs_one_process_per_declared_gpu(tmp_path):
    """resources.gpu of `train` becomes --nproc (torchrun when > 1): the rule declares 1, a
    profile or --set-resources raises it."""
    assert train_command(tmp_path).endswith(f"--nproc 1 > {tmp_path}/results/logs/train.log 2>&1")
    four = train_command(tmp_path, "--set-resources", "train:gpu=4", "--resources", "gpu=4")
    assert "--nproc 4 >" in four
