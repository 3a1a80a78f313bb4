"""End-to-end: the real Snakemake DAG on a tiny synthetic dataset.

One module-scoped run of the whole DAG (synth -> ... -> compare_idsw), then dry runs that
check a config change marks exactly the stale steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import os

from .workflow import planned_jobs, shadow_repo, snakemake, tiny_config, with_change, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ALL_TRACKERS = ("kalman", "trackssm")


@pytest.fixture(scope="module")
def completed(tmp_path_factory):
    """A workdir where `snakemake all` has run to completion on the tiny config."""
    workdir = tmp_path_factory.mktemp("e2e")
    cfg = tiny_config(workdir)
    write_config(workdir, cfg)
    shadow_repo(workdir)  # code edits below touch this copy of the sources, not the repo's
    snakemake(workdir, "all")
    return workdir, cfg


def test_dag_outputs(completed):
    workdir, cfg = completed
    res = Path(cfg["results"])
    from pycocotools.coco import COCO

    for split in ("train", "val", "test_front"):
        coco = COCO(str(res / "coco" / f"{split}.json"))
        assert coco.getImgIds(), split
    splits = json.loads((res / "splits.json").read_text())
    assert not set(splits["test"]) & (set(splits["detector_train"]) | set(splits["detector_val"]))
    seqs = (res / "mot" / "seqmaps" / "test.txt").read_text().split()[1:]
    assert seqs == sorted(splits["test"])
    for seq in seqs:
        assert (res / "detections" / f"{seq}.txt").is_file()
        for source in ("detector", "gt"):
            for tracker in ALL_TRACKERS:
                assert (res / "tracking" / source / tracker / f"{seq}.txt").is_file()
    assert (res / "detector" / "weights" / "best_ckpt.pth").stat().st_size > 0
    metrics = json.loads((res / "detector" / "metrics.json").read_text())
    assert metrics
    for name in ("compare_idsw.csv", "compare_idsw.md", "idsw_paradox_analysis.json"):
        assert (res / name).stat().st_size > 0
    assert sorted(p.name for p in (res / "plots").glob("*.png"))
    for rule in ("synth", "convert", "train", "infer", "compare_idsw"):
        assert (res / "benchmarks" / f"{rule}.tsv").is_file(), rule
        assert (res / "logs" / f"{rule}.log").is_file(), rule


def test_rerun_is_a_no_op(completed):
    workdir, _ = completed
    assert planned_jobs(workdir, "all") == {}


def test_report(completed):
    workdir, cfg = completed
    report = Path(cfg["results"]) / "report.html"
    snakemake(workdir, "all", "--report", str(report))
    html = report.read_text(errors="ignore")
    assert "compare_idsw.csv" in html and ".png" in html


# (config key, new value) -> rules that must rerun (count per rule); everything else must not.
def _tracking(n_main: int, evaluate: bool = True) -> dict[str, int]:
    """Tracking (and evaluation) jobs: the main runs and, with compare.ego_ablation, as many
    runs with ego_compensation flipped."""
    jobs = {"run_tracker": n_main, "run_tracker_ego": n_main} if n_main else {}
    return {**jobs, "evaluate_tracker": n_main, "evaluate_tracker_ego": n_main} if evaluate else jobs


STALENESS = {
    "convert.min_box_size": (
        3,
        {"convert": 1, "gt_detections": 1, "train": 1, "evaluate_detector": 1, "infer": 1, "train_trackssm": 1,
         **_tracking(4), "compare_idsw": 1, "all": 1},
    ),
    "detector.basic_lr_per_img": (
        0.002,
        {"train": 1, "evaluate_detector": 1, "infer": 1, **_tracking(2), "compare_idsw": 1, "all": 1},
    ),
    "infer.conf_threshold": (
        0.2,
        {"infer": 1, **_tracking(2), "compare_idsw": 1, "all": 1},
    ),
    "trackssm.lr": (
        0.001,
        {"train_trackssm": 1, **_tracking(2), "compare_idsw": 1, "all": 1},
    ),
    "tracking.association.max_age_s": (
        5.0,
        {**_tracking(4), "compare_idsw": 1, "all": 1},
    ),
    "tracking.motion.kalman.std_weight_position": (
        0.1,
        {**_tracking(2), "compare_idsw": 1, "all": 1},
    ),
    "evaluation.iou_threshold": (
        0.4,
        {"evaluate_tracker": 4, "evaluate_tracker_ego": 4, "compare_idsw": 1, "all": 1},
    ),
    "compare.baseline": (
        "trackssm",
        {"compare_idsw": 1, "all": 1},
    ),
}


@pytest.mark.parametrize("key", sorted(STALENESS))
def test_config_change_reruns_exactly_the_stale_steps(completed, key):
    workdir, cfg = completed
    value, expected = STALENESS[key]
    try:
        write_config(workdir, with_change(cfg, key, value))
        assert dict(planned_jobs(workdir, "all")) == expected
    finally:
        write_config(workdir, cfg)


# Editing a module (module file below src/nuscmot) -> rules that must rerun: exactly the jobs
# whose entry point imports it (nuscmot.common.imports) and what depends on their outputs.
CODE_EDITS = {
    "tracking/trackssm/model.py": {"train_trackssm": 1, **_tracking(2), "compare_idsw": 1, "all": 1},
    # every tracking job (track's default motion) and train_trackssm (its Kalman baseline)
    "tracking/kalman.py": {"train_trackssm": 1, **_tracking(4), "compare_idsw": 1, "all": 1},
    "evaluation/compare.py": {"compare_idsw": 1, "all": 1},
    "evaluation/verdict.py": {"compare_idsw": 1, "all": 1},
    "detector/checkpoint.py": {"train": 1, "evaluate_detector": 1, "infer": 1, **_tracking(2),
                               "compare_idsw": 1, "all": 1},
}


@pytest.mark.parametrize("module", sorted(CODE_EDITS))
def test_code_edit_reruns_exactly_its_importers(completed, module):
    workdir, _ = completed
    path = workdir / "repo" / "src" / "nuscmot" / module
    text, before = path.read_text(), path.stat()
    try:  # a real edit: Snakemake ignores a newer mtime when the file's checksum is unchanged
        path.write_text(text + "\n# edited\n")  # now: newer than every output
        assert dict(planned_jobs(workdir, "all")) == CODE_EDITS[module]
    finally:
        path.write_text(text)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
