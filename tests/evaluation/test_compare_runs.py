"""compare_idsw over several runs: training seeds and degradation draws, the ego table of the
runs it gets, and the per-class rows of evaluate_tracker."""

from __future__ import annotations

import json
import shutil

import pytest

from nuscmot.stages import compare_idsw, evaluate_tracker

from .builders import crafted_case, write_dataset
from .test_compare import run_compare, runs_of, two_trackers  # noqa: F401  (the module's fixture)


def test_seeds_and_draws(two_trackers, tmp_path):  # noqa: F811
    """Two draws x two TrackSSM seeds (the same files): every run in the CSV, per-seed figures and
    statistics in the JSON, one set of explanatory variables per sequence."""
    runs = runs_of(two_trackers, seeds={"trackssm": [0, 1]}, draws=(0, 1))
    run_compare(two_trackers, tmp_path, runs=runs, cfg={"min_baseline_idsw": 1})
    doc = json.loads((tmp_path / "analysis.json").read_text())["detector"]
    assert doc["n_runs"] == {"kalman": 2, "trackssm": 4} and doc["seeds"]["trackssm"] == [0, 1]
    st = doc["statistics"]["trackssm"]
    assert set(st) == {"IDSW", "MOTA", "IDF1", "HOTA"}
    assert st["IDSW"]["per_seed"]["0"] == st["IDSW"]["per_seed"]["1"] == st["IDSW"]["estimate"] > 0
    assert st["IDSW"]["seeds_disagree"] is False and set(st["IDSW"]) >= {"ci", "p", "significant", "sample_size"}
    assert len(doc["runs"]) == 6
    md = (tmp_path / "compare.md").read_text()
    every_run = md.split("### Every run")[1].split("###")[0]
    assert sum(line.startswith("| trackssm ") for line in every_run.splitlines()) == 4
    rows = (tmp_path / "compare.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 5 * 3  # draws x (OVERALL + 4 sequences) x runs per draw


def test_ego_runs_pair_with_their_main_run(two_trackers, tmp_path):  # noqa: F811
    flipped = {}
    for t in ("kalman", "trackssm"):
        for folder, on in ((two_trackers.results[t], False), (tmp_path / f"ego_{t}", True)):
            if on:
                shutil.copytree(two_trackers.results[t], folder)
            (folder / "settings.json").write_text(json.dumps({"association": {"ego_compensation": on}}))
        flipped[t] = folder
    ego = [dict(r, results=str(flipped[r["tracker"]])) for r in runs_of(two_trackers)][:1]
    try:
        run_compare(two_trackers, tmp_path, ego_runs=ego)
    finally:
        for t in ("kalman", "trackssm"):
            (two_trackers.results[t] / "settings.json").unlink()
    doc = json.loads((tmp_path / "analysis.json").read_text())["detector"]
    assert list(doc["ego_compensation"]) == ["kalman"]  # only the runs it got
    assert doc["ego_compensation"]["kalman"]["run"]["on"] == doc["ego_compensation"]["kalman"]["run"]["off"]


def test_evaluate_tracker_writes_per_class_rows(tmp_path):
    """The crafted case with A a car and B a pedestrian (and the boxes on them of its class):
    each class has one of the two switches."""
    case = crafted_case()
    for rows, col in ((case["gt"], 7), (case["trk"], 7)):
        for r in rows:
            r[col] = 5 if r[3] > 100 else 1
    paths = write_dataset(tmp_path, {"s1": case})
    out = tmp_path / "m.json"
    evaluate_tracker.main(["--params", "{}", "--tracker", "trk", "--results", str(paths.results["trk"]),
                           "--mot-dir", str(paths.mot_dir), "--seqmap", str(paths.seqmap),
                           "--out-csv", str(tmp_path / "m.csv"), "--out-json", str(out)])
    doc = json.loads(out.read_text())
    assert doc["overall"]["IDSW"] == 2
    classes = doc["classes"]
    assert set(classes) == {"car", "truck", "bus", "trailer", "pedestrian", "motorcycle", "bicycle"}
    car, ped = classes["car"]["overall"], classes["pedestrian"]["overall"]
    assert (car["IDSW"], car["num_objects"], car["FN"], car["FP"]) == (1, 12, 2, 0)
    assert (ped["IDSW"], ped["num_objects"], ped["FN"], ped["FP"]) == (1, 12, 0, 1)  # the FP lies at y 400
    assert classes["bus"]["overall"]["num_objects"] == 0 and classes["bus"]["sequences"]["s1"]["IDSW"] == 0
    assert car["MOTA"] == pytest.approx(1 - (2 + 0 + 1) / 12)


def test_the_verdict_reads_the_same_from_the_json(two_trackers, tmp_path):  # noqa: F811
    """The report rebuilds the verdict from the analysis JSON (keys sorted on disk): IDSW's
    sentence first, then MOTA, IDF1, HOTA, as in the Markdown; sources in the runs' order."""
    from nuscmot.report.summary import sources_of, verdict_sentences

    runs = runs_of(two_trackers, sources=("gt", "detector"))
    run_compare(two_trackers, tmp_path, runs=runs, cfg={"min_baseline_idsw": 1})
    doc = json.loads((tmp_path / "analysis.json").read_text())
    assert list(sources_of(doc)) == ["gt", "detector"]
    lines = [ln for ln in verdict_sentences(doc["detector"]) if ln.startswith(("Verdict", "- ", "**Verdict", "- **"))]
    heads = [ln.lstrip("-* ").split(" ")[0] for ln in lines[:4]]
    assert heads == ["Verdict", "MOTA", "IDF1", "HOTA"], lines
    md = (tmp_path / "compare.md").read_text()
    assert md.index(lines[0].strip("*")[:40]) < md.index(lines[1].lstrip("- ").strip("*")[:20])
