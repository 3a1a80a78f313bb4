"""End-to-end: the real Snakemake DAG on a tiny synthetic dataset.

One module-scoped run of the whole DAG (synth -> ... -> compare_idsw), then dry runs that
check a config change marks exactly the stale steps.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from .browser import INSTALL, chromium, data_uri_images, pixel_std, render, text_of
from .workflow import planned_jobs, shadow_repo, snakemake, tiny_config, with_change, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

@pytest.fixture(scope="module")
def completed(tmp_path_factory):
    """A workdir where `snakemake all` has run to completion on the tiny config: the default
    path (each model tuned on the tuning split, two TrackSSM seeds, two GT draws), paths
    relative to the workdir as in a user's config."""
    workdir = tmp_path_factory.mktemp("e2e")
    cfg = tiny_config(workdir, relative=True)
    write_config(workdir, cfg)
    shadow_repo(workdir)  # code edits below touch this copy of the sources, not the repo's
    snakemake(workdir, "all")
    return workdir, cfg


def test_dag_outputs(completed):
    workdir, cfg = completed
    res = workdir / cfg["results"]
    from pycocotools.coco import COCO

    for split in ("train", "val", "test_front"):
        coco = COCO(str(res / "coco" / f"{split}.json"))
        assert coco.getImgIds(), split
    splits = json.loads((res / "splits.json").read_text())
    assert not set(splits["test"]) & (set(splits["detector_train"]) | set(splits["detector_val"]))
    seqs = (res / "mot" / "seqmaps" / "test.txt").read_text().split()[1:]
    assert seqs == sorted(splits["test"])
    for seq in seqs:
        assert (res / "detections" / "detector" / f"{seq}.txt").is_file()
        for source in SOURCE_RUNS:
            for tracker in TRACKER_RUNS:
                assert (res / "tracking" / source / tracker / f"{seq}.txt").is_file()
    for seed in (0, 1):  # one model per seed, trained from that seed
        assert (res / "trackssm" / f"seed{seed}" / "model.pt").stat().st_size > 0
    models = [(res / "trackssm" / f"seed{s}" / "model.pt").read_bytes() for s in (0, 1)]
    assert models[0] != models[1]
    draws = [sorted(p.read_text() for p in (res / "detections" / f"gt-d{d}").glob("*.txt")) for d in (0, 1)]
    assert draws[0] != draws[1]
    for source in ("detector", "gt"):  # each run tuned on its own: one pick per source and run
        for tracker in TRACKER_RUNS:
            tuned = json.loads((res / "sweep" / "tuned" / source / f"{tracker}.json").read_text())
            assert tuned["run"] == tracker and tuned["split"] == "tune"
    assert (res / "detector" / "weights" / "best_ckpt.pth").stat().st_size > 0
    metrics = json.loads((res / "detector" / "metrics.json").read_text())
    assert metrics
    for name in ("compare_idsw.csv", "compare_idsw.md", "idsw_paradox_analysis.json", "sweep/best.json"):
        assert (res / name).stat().st_size > 0
    assert sorted(p.name for p in (res / "plots").glob("*.png"))
    for rule in ("synth", "convert", "train", "infer_detector", "compare_idsw"):
        assert (res / "benchmarks" / f"{rule}.tsv").is_file(), rule
        assert (res / "logs" / f"{rule}.log").is_file(), rule


def test_rerun_is_a_no_op(completed):
    workdir, _ = completed
    assert planned_jobs(workdir, "all") == {}


def test_a_moved_checkout_reruns_nothing(completed, tmp_path):
    """Rule inputs are relative paths: the same run copied to another folder (a re-clone, a
    moved disk) is up to date there."""
    workdir, _ = completed
    moved = tmp_path / "moved"
    shutil.copytree(workdir, moved, symlinks=True)  # copy2: contents and mtimes
    assert planned_jobs(moved, "all") == {}


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_missing_pretrained_path_stops_at_load_and_touches_nothing(completed):
    """A mistyped detector.pretrained is one line when the workflow loads, before any job:
    the training state and the weights stay byte-identical (nothing is rerun or cleared)."""
    workdir, cfg = completed
    detector = workdir / cfg["results"] / "detector"
    before = _digests(detector)
    assert any(k.startswith("state/") for k in before)
    try:
        write_config(workdir, with_change(cfg, "detector.pretrained", "weights/typo/yolox_l.pth"))
        proc = snakemake(workdir, "all", check=False)
        assert proc.returncode == 1
        last = proc.stderr.strip().splitlines()[-1]
        assert last.endswith("invalid config at detector.pretrained: weights/typo/yolox_l.pth: no such file "
                             "(a missing pretrained checkpoint never falls back to a scratch run; set it to '' "
                             "with allow_scratch: true for one)"), proc.stderr[-2000:]
    finally:
        write_config(workdir, cfg)
    assert _digests(detector) == before


def test_a_real_dataroot_left_synthetic_is_refused_not_replaced(completed, tmp_path):
    """dataset.synthetic: true on a folder synth did not make (a real dataset): one line at
    load, and the folder is untouched (synth would have replaced it)."""
    workdir, cfg = completed
    real = tmp_path / "nuscenes"
    (real / "v1.0-synth").mkdir(parents=True)
    (real / "v1.0-synth" / "scene.json").write_text("[]")
    try:
        write_config(workdir, with_change(cfg, "dataset.dataroot", str(real)))
        proc = snakemake(workdir, "all", check=False)
        assert proc.returncode == 1
        assert proc.stderr.strip().splitlines()[-1].endswith(
            f"invalid config at dataset.synthetic: {real} exists but holds no synthetic set (v1.0-synth/splits.json, "
            "written by synth, is absent); synth would replace it: for a real dataset set dataset.synthetic: false")
    finally:
        write_config(workdir, cfg)
    assert sorted(p.name for p in real.rglob("*")) == ["scene.json", "v1.0-synth"]


def test_report(completed):
    workdir, cfg = completed
    report = workdir / cfg["results"] / "report.html"
    snakemake(workdir, "all", "--report", str(report))
    html = report.read_text(errors="ignore")
    assert "compare_idsw.csv" in html and ".png" in html


def test_report_outputs(completed):
    """Every switch as a row, the GT ids' instance tokens, the detector's recall tables and
    training curves in metrics.json, the summary with its gallery."""
    from nuscmot.evaluation.switches import COLUMNS, read_switches

    workdir, cfg = completed
    res = workdir / cfg["results"]
    for source in SOURCE_RUNS:
        for tracker in TRACKER_RUNS:
            path = res / "switches" / source / f"{tracker}.csv"
            assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
            idsw = json.loads((res / "metrics" / source / f"{tracker}.json").read_text())["overall"]["IDSW"]
            rows = read_switches(path)
            assert len(rows) == idsw and all(r["instance_token"] for r in rows), (source, tracker)
    seq = (res / "mot" / "seqmaps" / "test.txt").read_text().split()[1]
    assert (res / "mot" / "test" / seq / "gt" / "instances.csv").read_text().startswith("id,instance_token\n1,")
    metrics = json.loads((res / "detector" / "metrics.json").read_text())
    test = metrics["splits"]["test_front"]
    assert test["recall_conf_threshold"] == cfg["infer"]["conf_threshold"]
    assert {"per_class_recall", "recall_by_visibility", "pr_curves"} <= set(test)
    assert [e["epoch"] for e in metrics["training"]] == [1, 2]
    assert sorted(p.name for p in (res / "detector" / "plots").glob("*.png")) == [
        "pr_curves.png", "recall_by_visibility.png", "training.png"]
    index = json.loads((res / "report" / "gallery" / "index.json").read_text())
    assert index["animation"]["runs"] == ["kalman", "trackssm-s0"]
    assert (res / "report" / "worst_sequence.gif").stat().st_size > 0
    assert "Verdict (trackssm)" in (res / "report" / "verdict.html").read_text()


def test_report_opens_on_the_verdict_in_a_browser(completed, tmp_path):
    """The report, rendered by headless Chromium: its first page shows every source's verdict
    sentence, the summary page its detector table and gallery images that are not blank, and
    neither page logs a console error."""
    if chromium() is None:
        pytest.skip(INSTALL)
    from PIL import Image

    workdir, cfg = completed
    res = workdir / cfg["results"]
    report = workdir / "browser_report.html"
    snakemake(workdir, "all", "--report", str(report))
    first = render(report, tmp_path / "report")
    text = text_of(first.dom)
    assert text.count("Verdict (trackssm)") == 2, text[:3000]  # one per detection source
    assert "Detections: GT-derived detections" in text and "summary.html" in text
    assert pixel_std(Image.open(first.screenshot)) > 10
    assert not first.console_errors(), first.console_errors()
    summary = render(res / "report" / "summary.html", tmp_path / "summary", size=(1300, 6000))
    assert re.search(r'<h2 id="detector">.*?<table.*?AP@0\.5.*?test_front', summary.dom, re.S)
    assert re.search(r'<h2 id="switches">.*?<img src="data:image/(jpeg|gif)', summary.dom, re.S)
    strips = data_uri_images(summary.dom) + data_uri_images(summary.dom, "image/gif")
    assert strips and all(pixel_std(im) > 10 for im in strips)
    assert pixel_std(Image.open(summary.screenshot)) > 10
    assert not summary.console_errors(), summary.console_errors()


# The tiny config's runs: 3 detection-source runs (the detector, 2 GT draws) x 3 tracker runs
# (Kalman, TrackSSM seeds 0 and 1); the ego-compensation flips run on the reference runs only
# (detector and the first draw x Kalman and the first seed).
SOURCE_RUNS = ("detector", "gt-d0", "gt-d1")
TRACKER_RUNS = ("kalman", "trackssm-s0", "trackssm-s1")


def _tracking(n_main: int, n_ego: int) -> dict[str, int]:
    """Tracking and evaluation jobs: ``n_main`` runs, ``n_ego`` of them also with
    ego_compensation flipped."""
    ego = {"run_tracker_ego": n_ego, "evaluate_tracker_ego": n_ego} if n_ego else {}
    return {"run_tracker": n_main, "evaluate_tracker": n_main, **ego} if n_main else ego


def _tuning(n: int) -> dict[str, int]:
    """``n`` sweep blocks on the tuning split, their picks, and the sweep's summary."""
    return {"sweep_block": n, "pick_tuned": n, "sweep_tracking": 1}


COMPARE = {"compare_idsw": 1, "report_summary": 1, "all": 1}


def _report(switches: int, gallery: bool = True) -> dict[str, int]:
    """The report's jobs below the verdict: ``switches`` source runs' switch tables, the gallery."""
    return {"switches": switches, **({"gallery": 1} if gallery else {})}

# (config key, new value) -> rules that must rerun (count per rule); everything else must not.
# The default path: compare.use_tuned, so every tracking job reads its run's own pick.
STALENESS = {
    "convert.min_box_size": (
        3,
        {"convert": 1, "gt_detections": 2, "gt_detections_tune": 1, "train": 1, "evaluate_detector": 1,
         "infer": 1, "infer_tune": 1, "train_trackssm": 2, "heldout_trackssm": 2, **_tuning(6), **_tracking(9, 4),
         **COMPARE, **_report(3)},
    ),
    # the detector's runs alone: never a job on GT-derived detections
    "detector.weight_decay": (
        0.001,
        {"train": 1, "evaluate_detector": 1, "infer": 1, "infer_tune": 1, **_tuning(3), **_tracking(3, 2),
         **COMPARE, **_report(1)},
    ),
    # evaluate_detector too: its recall tables are at the threshold the tracking uses
    "infer.conf_threshold": (
        0.2,
        {"infer": 1, "infer_tune": 1, "evaluate_detector": 1, **_tuning(3), **_tracking(3, 2), **COMPARE,
         **_report(1)},
    ),
    "trackssm.lr": (
        0.001,
        {"train_trackssm": 2, "heldout_trackssm": 2, **_tuning(4), **_tracking(6, 2), **COMPARE, **_report(3)},
    ),
    # a base association value: every cell of every model starts from it
    "tracking.association.max_age_s": (
        5.0,
        {**_tuning(6), **_tracking(9, 4), **COMPARE, **_report(3)},
    ),
    # one model's own value: its blocks, picks and runs alone, never the other model's (and
    # TrackSSM's held-out comparison with this Kalman filter, never its training)
    "tracking.motion.kalman.std_weight_position": (
        0.1,
        {**_tuning(2), **_tracking(3, 2), "heldout_trackssm": 2, **COMPARE, **_report(3)},
    ),
    # the tuning objective is scored at this threshold, so every pick (and the runs that read
    # it) must be redone; see README "What reruns"
    "evaluation.iou_threshold": (
        0.4,
        {**_tuning(6), **_tracking(9, 4), **COMPARE, **_report(3)},
    ),
    # the switch tables name each run's other tracker, the gallery puts the baseline first
    "compare.baseline": (
        "trackssm",
        {**COMPARE, **_report(3)},
    ),
    # a new seed or draw adds its own jobs; the others' stay
    "trackssm.seeds": (
        [0, 1, 2],
        {"train_trackssm": 1, "heldout_trackssm": 1, **_tuning(2), **_tracking(3, 0), **COMPARE, **_report(3)},
    ),
    "gt_detections.seeds": (
        [0, 1, 2],
        {"gt_detections": 1, **_tracking(3, 0), **COMPARE, **_report(1, gallery=False)},
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
    # TrackSSM's jobs alone: never a Kalman block or Kalman tracking job
    "tracking/trackssm/model.py": {"train_trackssm": 2, "heldout_trackssm": 2, **_tuning(4), **_tracking(6, 2),
                                   **COMPARE, **_report(3)},
    # Kalman's own jobs (the other models' are pruned of it, nuscmot.tracking.models), the
    # held-out comparison (its Kalman baseline) and train_trackssm, which imports the Kalman
    # module: so TrackSSM's blocks and runs too, through its retrained models
    "tracking/kalman.py": {"train_trackssm": 2, "heldout_trackssm": 2, **_tuning(6), **_tracking(9, 4), **COMPARE,
                           **_report(3)},
    # a model the tiny config does not track: no block, pick or tracking job of another model
    # (pruned); only the aggregates that read the registry's names and slices
    "tracking/iou.py": {"sweep_tracking": 1, **COMPARE},
    "evaluation/compare.py": COMPARE,
    "evaluation/verdict.py": COMPARE,
    "detector/checkpoint.py": {"train": 1, "evaluate_detector": 1, "infer": 1, "infer_tune": 1, **_tuning(3),
                               **_tracking(3, 2), **COMPARE, **_report(1)},
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


def test_bring_your_own_detections(completed, tmp_path):
    """A `files` source: a folder of MOT detection files, validated, tuned, tracked and compared
    like any other source; an edited file reruns that source's jobs alone; a bad file stops the
    check with one line naming file and line. (On a copy of the finished run.)"""
    workdir, cfg = completed
    work = tmp_path / "work"
    shutil.copytree(workdir, work, symlinks=True)
    res = work / cfg["results"]
    mine = work / "mydets"
    mine.mkdir()
    for folder in (res / "detections" / "gt-d0", res / "tune" / "detections" / "gt"):
        for f in folder.glob("*.txt"):
            shutil.copy(f, mine / f.name)
    cfg = with_change(cfg, "detections", {"detector": {"kind": "checkpoint", "checkpoint": "train"},
                                           "gt": {"kind": "gt"}, "mine": {"kind": "files", "dir": "mydets"}})
    cfg = with_change(cfg, "tracking.sources", ["detector", "gt", "mine"])
    write_config(work, cfg)
    mine_jobs = {"check_detections": 1, "check_detections_tune": 1, **_tuning(3), **_tracking(3, 2), **COMPARE,
                 **_report(1)}  # a reference source: its switches and gallery
    assert dict(planned_jobs(work, "all")) == mine_jobs
    snakemake(work, "all")
    assert "mine" in (res / "compare_idsw.md").read_text()
    assert sorted(p.name for p in (res / "tracking" / "mine" / "kalman").glob("*.txt"))

    name = sorted(mine.glob("*.txt"))[0]
    name.write_text(name.read_text() + "1,-1,10,10,20,20,0.9,1,-1,-1\n")
    assert dict(planned_jobs(work, "all")) == mine_jobs  # that source's jobs, no other
    name.write_text(name.read_text() + "2,-1,10,10,20,20,1.5,1,-1,-1\n")
    proc = snakemake(work, "all", check=False)
    assert proc.returncode != 0
    log = sorted((res / "logs").glob("check_detections*.log"))
    lines = [ln for p in log for ln in p.read_text().strip().splitlines()[-1:] if ln.startswith("error:")]
    assert lines and all(f"{name.name}:" in ln and "outside [0, 1]" in ln for ln in lines), lines
