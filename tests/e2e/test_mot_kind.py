"""End-to-end: ``dataset.kind: mot``, a MOTChallenge-layout folder tuned, tracked and evaluated
in place (no convert), on the committed fixture tests/fixtures/mot_tiny (KITTI-like, no poses)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import yaml

from .workflow import ROOT, planned_jobs, snakemake, write_config

pytestmark = [pytest.mark.e2e]

FIXTURE = ROOT / "tests" / "fixtures" / "mot_tiny"
CONFIG = ROOT / "tests" / "configs" / "mot_tiny.yaml"
NUSCENES_RULES = {"synth", "convert", "train", "infer", "infer_tune", "evaluate_detector", "finetune_effect",
                  "gallery", "report_summary"}
SKIP_NOTE = "note: sweep.grid.ego_compensation axis skipped: the data has no camera poses"


def mot_config(workdir: Path, fixture: Path = FIXTURE) -> dict:
    """The mot_tiny config with its outputs below ``workdir`` and the fixture at ``fixture``."""
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg["results"] = str(workdir / "results")
    mot = cfg["dataset"]["mot"]
    mot["root"] = str(fixture)
    for key in ("test_seqmap", "tune_seqmap", "train_seqmap"):
        mot[key] = str(fixture / "seqmaps" / Path(mot[key]).name)
    cfg["detections"]["public"]["dir"] = str(fixture)
    return cfg


def seqmap(name: str) -> list[str]:
    return (FIXTURE / "seqmaps" / f"{name}.txt").read_text().split()[1:]


def test_the_fixture_is_its_generator_output(tmp_path):
    sys.path.insert(0, str(FIXTURE))
    try:
        import generate
    finally:
        sys.path.remove(str(FIXTURE))
    generate.write(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert made and made == sorted(p.relative_to(FIXTURE) for p in FIXTURE.rglob("*")
                                   if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts)
    assert all((tmp_path / p).read_bytes() == (FIXTURE / p).read_bytes() for p in made)
    assert not list(FIXTURE.rglob("cam_pose.json"))


@pytest.fixture(scope="module")
def completed(tmp_path_factory):
    """`snakemake sweep_tracking compare_idsw` run to completion on the fixture."""
    workdir = tmp_path_factory.mktemp("mot")
    cfg = mot_config(workdir)
    write_config(workdir, cfg)
    planned = planned_jobs(workdir, "sweep_tracking", "compare_idsw")
    proc = snakemake(workdir, "sweep_tracking", "compare_idsw")
    return workdir, cfg, planned, proc


def test_tracked_tuned_and_evaluated_without_convert(completed):
    workdir, cfg, planned, _ = completed
    trackers = cfg["tracking"]["trackers"]
    assert not set(planned) & NUSCENES_RULES
    assert planned["sweep_block"] == len(cfg["tracking"]["sources"]) * len(trackers)
    assert ("mot_trajectories" in planned) == ("trackssm" in trackers)
    res = workdir / "results"
    assert not (res / "mot").exists() and not (res / "splits.json").exists()
    runs = {"kalman": "kalman", "trackssm": "trackssm-s0"}
    for source in ("public", "gt-d0"):
        for tracker in trackers:
            run = runs.get(tracker, tracker)
            assert sorted(p.stem for p in (res / "tracking" / source / run).glob("*.txt")) == seqmap("test")
            metrics = list(csv.DictReader((res / "metrics" / source / f"{run}.csv").open()))
            assert [r["sequence"] for r in metrics] == [*seqmap("test"), "OVERALL"]
    rows = list(csv.DictReader((res / "compare_idsw.csv").open()))
    compared = {(r["source"], r["tracker"]) for r in rows if r["sequence"] == "OVERALL"}
    assert compared == {(s, t) for s in ("public", "gt") for t in trackers}
    assert {r["sequence"] for r in rows} == {"OVERALL", *seqmap("test")}
    kalman = list(csv.DictReader((res / "metrics" / "public" / "kalman.csv").open()))
    overall = next(r for r in kalman if r["sequence"] == "OVERALL")
    assert int(overall["ignored_gt"]) > 0  # the DontCare / conf-0 rows are ignored, not missed
    classes = json.loads((res / "metrics" / "public" / "kalman.json").read_text())["classes"]
    assert set(classes) == set(cfg["dataset"]["mot"]["classes"])  # named after the dataset's classes, not nuScenes'
    assert json.loads((res / "sweep" / "best.json").read_text())["split"] == "tune"  # the tuning seqmap's stem


def test_the_ego_axis_is_skipped_with_a_note(completed):
    workdir, cfg, _, proc = completed
    assert proc.stderr.count(SKIP_NOTE) == 1
    assert "compare.ego_ablation skipped" in proc.stderr
    header = (workdir / "results" / "sweep" / "summary.csv").read_text().splitlines()[0].split(",")
    assert "ego_compensation" not in header and "match_thresh" in header
    assert not (workdir / "results" / "ego_flip").exists()
    notes = json.loads((workdir / "results" / "sweep" / "best.json").read_text())["notes"]
    assert any(n.startswith("sweep.grid.ego_compensation axis skipped") for n in notes)


def test_tuning_never_read_a_test_sequence(completed):
    workdir, cfg, _, _ = completed
    res = workdir / "results"
    blocks = sorted((res / "sweep").glob("*/*.json"))
    assert len(blocks) == len(cfg["tracking"]["sources"]) * len(cfg["tracking"]["trackers"])
    for block in blocks:
        doc = json.loads(block.read_text())
        assert doc["sequences"] == seqmap("tune") and doc["split"] == "tune", block
    for folder in (res / "tune" / "detections").iterdir():
        assert sorted(p.stem for p in folder.glob("*.txt")) == seqmap("tune"), folder
    assert json.loads((res / "sweep" / "best.json").read_text())["split"] == "tune"
    if "trackssm" in cfg["tracking"]["trackers"]:  # TrackSSM's data: training and tuning GT only
        import pandas as pd

        for split, names in (("train", seqmap("train")), ("val", seqmap("tune"))):
            scenes = set(pd.read_parquet(res / "trajectories" / f"{split}.parquet")["scene_name"])
            assert scenes == set(names), split


@pytest.mark.parametrize("change, message", [
    (lambda c, t: c["dataset"]["mot"].update(tune_seqmap=str(t / "none.txt")),
     r"none.txt \[dataset.mot.tune_seqmap\]: no such seqmap"),
    (lambda c, t: c["dataset"]["mot"].update(root=str(t / "nowhere")), r"nowhere \[dataset.mot.root\]: no such folder"),
    (lambda c, t: (t / "m.txt").write_text("name\ntune-01\nmissing-07\n") and c["dataset"]["mot"].update(
        tune_seqmap=str(t / "m.txt")), r"m.txt \[dataset.mot.tune_seqmap\]: names sequence missing-07, but .*"
                                       r"missing-07/seqinfo.ini does not exist"),
    (lambda c, t: (t / "m.txt").write_text("name\ntune-01\ntest-02\n") and c["dataset"]["mot"].update(
        tune_seqmap=str(t / "m.txt")), r"lists test sequence\(s\) test-02 .*never read a test sequence"),
    (lambda c, t: c["dataset"]["mot"].update(train_seqmap=""), r"at tracking.trackers: trackssm needs "
                                                                 r"dataset.mot.train_seqmap"),
    (lambda c, t: c["detections"].update(det={"kind": "checkpoint", "checkpoint": "train"})
     or c["tracking"].update(sources=["det"]), r"at detections.det: a checkpoint source needs nuScenes images"),
])
def test_a_bad_mot_config_is_one_line_at_load(tmp_path, change, message):
    import re

    cfg = mot_config(tmp_path)
    change(cfg, tmp_path)
    write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "--dry-run", check=False)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if "invalid config" in ln]
    assert len(lines) == 1 and re.search(message, lines[0]), proc.stderr


def test_a_nuscenes_target_is_refused(tmp_path):
    write_config(tmp_path, mot_config(tmp_path))
    proc = snakemake(tmp_path, "--dry-run", "train", check=False)
    assert proc.returncode != 0
    assert "at dataset.kind: target train needs nuScenes data" in proc.stderr


def test_explicit_ego_compensation_without_poses_names_the_pose_file(tmp_path):
    cfg = mot_config(tmp_path)
    cfg["tracking"].update(trackers=["kalman"], sources=["public"], association={"ego_compensation": True})
    cfg["compare"]["use_tuned"] = False
    write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "track", check=False)
    assert proc.returncode != 0
    log = (tmp_path / "results" / "logs" / "track_public_kalman.log").read_text()
    assert f"{FIXTURE}/test-01/cam_pose.json" in log


def test_lint_clean_on_mot_data(tmp_path):
    write_config(tmp_path, mot_config(tmp_path))
    proc = snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr
