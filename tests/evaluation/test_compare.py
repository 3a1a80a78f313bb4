"""compare_idsw: runs, table with delta/ratio, correlations, Markdown, plots, entry point."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from nuscmot.stages import compare_idsw, evaluate_tracker as evaluate_tracking
from nuscmot.common.errors import InputError
from nuscmot.evaluation import aggregate, compare, plots, report
from nuscmot.evaluation.runs import Run, group_runs, parse_runs

from .builders import det_row, random_sequence, write_dataset

PNG = b"\x89PNG\r\n\x1a\n"
PLOTS = ["detector_idsw_delta_vs_crowding.png", "detector_idsw_delta_vs_gaps.png", "detector_idsw_per_sequence.png",
         "detector_timeline_worst.png"]


def fake_metrics(idsw: dict[str, dict[str, int]]) -> dict:
    def row(n):
        return {"IDSW": n, "MOTA": 0.5, "IDF1": 0.6, "HOTA": 0.4, "FP": 1, "FN": 2, "Frag": 3, "IDSW_trackeval": n}

    return {
        t: {"tracker": t, "sequences": {s: row(n) for s, n in per.items()}, "overall": row(sum(per.values()))}
        for t, per in idsw.items()
    }


def test_delta_and_ratio():
    assert compare.delta_ratio(6, 4) == (2, 1.5)
    assert compare.delta_ratio(3, 0) == (3, None)
    assert compare.delta_ratio(0, 0) == (0, None)


def grid_of(metrics: dict, seeds: dict | None = None):
    """One source's runs and docs from fake metrics (one run per tracker unless ``seeds``)."""
    runs = [Run("detector", None, t, s, Path(f"{t}{s}.json"), Path("r"), Path("d"))
            for t in metrics for s in (seeds or {}).get(t, [None])]
    src = group_runs(runs)[0]
    return src, {t: {k: metrics[t] for k in src.runs[t]} for t in src.trackers}


def test_run_rows_overall_first_with_delta_and_ratio():
    m = fake_metrics({"kalman": {"a": 2, "b": 0}, "trackssm": {"a": 5, "b": 1}, "other": {"a": 1, "b": 0}})
    src, docs = grid_of(m)
    rows = aggregate.run_rows(src, docs, "kalman", ["a", "b"])
    assert [(r["sequence"], r["tracker"]) for r in rows] == [
        ("OVERALL", "kalman"), ("OVERALL", "trackssm"), ("OVERALL", "other"),
        ("a", "kalman"), ("a", "trackssm"), ("a", "other"), ("b", "kalman"), ("b", "trackssm"), ("b", "other"),
    ]  # fmt: skip
    by = {(r["sequence"], r["tracker"]): r for r in rows}
    assert (by["OVERALL", "trackssm"]["IDSW_delta"], by["OVERALL", "trackssm"]["IDSW_ratio"]) == (4, 3.0)
    assert (by["OVERALL", "other"]["IDSW_delta"], by["OVERALL", "other"]["IDSW_ratio"]) == (-1, 0.5)
    assert (by["OVERALL", "kalman"]["IDSW_delta"], by["OVERALL", "kalman"]["IDSW_ratio"]) == (0, 1.0)
    assert (by["b", "trackssm"]["IDSW_delta"], by["b", "trackssm"]["IDSW_ratio"]) == (1, None)
    assert list(rows[0]) == aggregate.RUN_COLUMNS


def test_runs_are_parsed_and_must_form_a_grid():
    def run(tracker, seed, draw=0):
        return {"source": "gt", "draw": draw, "tracker": tracker, "seed": seed, "metrics": "m", "results": "r",
                "dets": "d"}

    runs = parse_runs(json.dumps([run("kalman", None), run("trackssm", 0), run("trackssm", 1),
                                  run("kalman", None, 1), run("trackssm", 1, 1), run("trackssm", 0, 1)]))
    (src,) = group_runs(runs)
    assert src.draws == [0, 1] and src.seeds == {"kalman": [None], "trackssm": [0, 1]}
    with pytest.raises(InputError, match="lacks the run of draw 1, seed 0"):
        group_runs(runs[:5])
    for bad, words in ((run("kalman", None) | {"seed": "0"}, "seed must be an integer or null"),
                       ({"source": "gt"}, "needs exactly the keys"), (run("kalman", 1), "given twice")):
        with pytest.raises(InputError, match=words):
            parse_runs(json.dumps([run("kalman", 1), bad]))
    with pytest.raises(InputError, match="--runs: not JSON"):
        parse_runs("[{")


def test_correlation_values_and_degenerate_cases():
    c = compare.correlation([1, 2, 3, 4], [2, 4, 6, 9])
    assert set(c) == {"n", "pearson", "spearman", "reason", "level"}
    assert c["n"] == 4 and c["reason"] is None
    assert c["pearson"]["ci"][0] < c["pearson"]["r"] < c["pearson"]["ci"][1]  # Fisher z, n = 4
    assert c["pearson"]["r"] == pytest.approx(np.corrcoef([1, 2, 3, 4], [2, 4, 6, 9])[0, 1])
    assert c["spearman"]["r"] == pytest.approx(1.0) and 0 <= c["pearson"]["p"] < 0.05
    for x, y, reason in (
        ([1, 2], [3, 4], "fewer than 3"),
        ([], [], "fewer than 3"),
        ([1, 1, 1], [1, 2, 3], "explanatory variable is constant"),
        ([1, 2, 3], [5, 5, 5], "IDSW delta is constant"),
    ):
        c = compare.correlation(x, y)
        assert c["pearson"] == {"r": None, "p": None, "ci": [None, None]} and c["spearman"]["r"] is None
        assert reason in c["reason"]
        json.dumps(c, allow_nan=False)


def explanatory(names, gaps, objects):
    return {
        s: {
            "gaps": {"gap_frames": g, "gap_frames_per_track": g / 2, "gap_runs": g, "per_track": {},
                     "gt_boxes": 100, "matched_gt_boxes": 80},
            "crowding": {"mean_objects_per_frame": o, "max_objects_per_frame": int(o) + 1, "mean_pairwise_iou": 0.1},
        }
        for s, g, o in zip(names, gaps, objects)
    }


def test_analysis_markdown_and_worst_sequence():
    names = ["a", "b", "c", "d"]
    m = fake_metrics({"kalman": dict(zip(names, [1, 2, 3, 0])), "trackssm": dict(zip(names, [2, 6, 3, 9]))})
    cfg = compare.CompareConfig(min_baseline_idsw=5)
    result = compare.analysis(m, ["kalman", "trackssm"], "kalman", names, explanatory(names, [1, 4, 0, 9], [3, 5, 2, 8]),
                              cfg)
    assert result["compared"] == ["trackssm"]
    assert result["meaningful"] is True and result["detection_recall"] == pytest.approx(0.8)
    assert [result["sequences"][s]["idsw_delta"]["trackssm"] for s in names] == [1, 4, 0, 9]
    corr = result["correlations"]["trackssm"]
    assert set(corr) == set(compare.VARIABLES)
    assert corr["gap_frames"]["pearson"]["r"] == pytest.approx(1.0)
    assert corr["mean_pairwise_iou"]["reason"] == "explanatory variable is constant over the sequences"
    assert compare.worst_sequence(result, names) == ("d", "trackssm")


def test_worst_sequence_ties_and_baseline_only():
    names = ["a", "b"]
    m = fake_metrics({"kalman": {"a": 1, "b": 3}, "trackssm": {"a": 3, "b": 1}})
    result = compare.analysis(m, ["kalman", "trackssm"], "kalman", names, explanatory(names, [1, 2], [1, 2]))
    assert compare.worst_sequence(result, names) == ("a", "trackssm")  # |+2| == |-2|: seqmap order
    only = compare.analysis(m, ["kalman"], "kalman", names, explanatory(names, [1, 2], [1, 2]))
    assert only["correlations"] == {} and compare.worst_sequence(only, names) == ("b", None)


def test_load_metrics_errors(tmp_path):
    path = tmp_path / "k.json"
    with pytest.raises(InputError, match="missing metrics file"):
        compare.load_metrics(path, "kalman", ["a"])
    path.write_text(json.dumps(fake_metrics({"kalman": {"a": 1}})["kalman"]))
    with pytest.raises(InputError, match="expected 'trackssm'"):
        compare.load_metrics(path, "trackssm", ["a"])
    with pytest.raises(InputError, match="no metrics for sequence"):
        compare.load_metrics(path, "kalman", ["a", "zz"])
    path.write_text("{")
    with pytest.raises(InputError, match="cannot read metrics JSON"):
        compare.load_metrics(path, "kalman", ["a"])


def test_plots_are_pngs_even_for_degenerate_input(tmp_path):
    plots.idsw_per_sequence(tmp_path / "bars.png", ["s"], {"kalman": {"s": 0}, "trackssm": {"s": 0}}, "kalman")
    plots.delta_scatter(tmp_path / "sc.png", [1.0], {"trackssm": [0]}, {"trackssm": None}, xlabel="x", title="t", baseline="kalman")
    plots.switch_timeline(tmp_path / "tl.png", "s", [0, 0, 0], {"kalman": [], "trackssm": []})
    for name in ("bars.png", "sc.png", "tl.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 1000


# ---------------------------------------------------------------- entry point


@pytest.fixture(scope="module")
def two_trackers(tmp_path_factory):
    """Four random sequences; 'trackssm' = 'kalman' plus extra identity switches; detections
    are the GT boxes with some dropped."""
    root = tmp_path_factory.mktemp("cmp")
    rng = np.random.default_rng(3)
    seqs = {}
    for i in range(4):
        case = random_sequence(rng, length=30, objects=6 + 3 * i, swap=0.005)
        worse = [list(r) for r in case["trk"]]
        for r in worse:
            if rng.random() < 0.02 * (i + 1):
                r[1] += 7000  # a fresh id from here on for this box: extra switches
        seen, kept = set(), []
        for r in worse:
            if (r[0], r[1]) not in seen:
                seen.add((r[0], r[1]))
                kept.append(r)
        dets = [det_row(r[0], r[2], r[3], r[4], r[5]) for r in case["gt"] if rng.random() > 0.2]
        seqs[f"scene-{i}"] = {"length": 30, "gt": case["gt"], "kalman": case["trk"], "trackssm": kept, "dets": dets}
    paths = write_dataset(root, seqs, trackers=("kalman", "trackssm"))
    paths.metrics = {}
    for t in ("kalman", "trackssm"):
        paths.metrics[t] = root / "metrics" / f"{t}.json"
        evaluate_tracking.main(
            ["--params", "{}", "--tracker", t, "--results", str(paths.results[t]), "--mot-dir", str(paths.mot_dir),
             "--seqmap", str(paths.seqmap), "--out-csv", str(root / "metrics" / f"{t}.csv"), "--out-json", str(paths.metrics[t])]
        )  # fmt: skip
    return paths


def runs_of(paths, trackers=("kalman", "trackssm"), sources=("detector",), metrics=None, seeds=None, draws=(None,)):
    """The ``--runs`` list: every source x draw x tracker x seed (``seeds[tracker]``, default one null seed)."""
    out = []
    for source in sources:
        for d in draws:
            for t in trackers:
                for s in (seeds or {}).get(t, [None]):
                    out.append({"source": source, "draw": d, "tracker": t, "seed": s,
                                "metrics": str((metrics or paths.metrics)[t]), "results": str(paths.results[t]),
                                "dets": str(paths.dets_dir)})
    return out


def run_compare(paths, out, trackers=("kalman", "trackssm"), baseline="kalman", metrics=None, sources=("detector",),
                cfg=None, runs=None, ego_runs=None):
    runs = runs if runs is not None else runs_of(paths, trackers, sources, metrics)
    extra = ["--ego-runs", json.dumps(ego_runs)] if ego_runs is not None else []
    compare_idsw.main(
        ["--params", json.dumps({"cfg": {"baseline": baseline, "bootstrap_samples": 500, **(cfg or {})},
                                 "evaluation": {"iou_threshold": 0.5}}),
         "--runs", json.dumps(runs), *extra, "--mot-dir", str(paths.mot_dir), "--seqmap", str(paths.seqmap),
         "--out-csv", str(out / "compare.csv"), "--out-md", str(out / "compare.md"),
         "--out-json", str(out / "analysis.json"), "--plots-dir", str(out / "plots")]
    )  # fmt: skip


def test_compare_idsw_entry_point(two_trackers, tmp_path):
    run_compare(two_trackers, tmp_path)
    rows = list(csv.DictReader((tmp_path / "compare.csv").open()))
    assert [r["sequence"] for r in rows[:2]] == ["OVERALL", "OVERALL"]
    assert {r["source"] for r in rows} == {"detector"}
    assert len(rows) == 2 + 4 * 2
    kal = json.loads(two_trackers.metrics["kalman"].read_text())["overall"]["IDSW"]
    ssm = json.loads(two_trackers.metrics["trackssm"].read_text())["overall"]["IDSW"]
    assert ssm > kal > 0
    assert int(rows[1]["IDSW_delta"]) == ssm - kal and float(rows[1]["IDSW_ratio"]) == pytest.approx(ssm / kal, abs=1e-6)
    md = (tmp_path / "compare.md").read_text()
    assert f"| {ssm} " in md and f"| {kal} " in md and "## Per sequence" in md
    assert f"Verdict (trackssm): {ssm - kal} more switches than kalman (95% CI" in md
    assert "## Per class" in md and "## Every run" in md and "Sequences needed for IDSW (trackssm)" in md
    analysis = json.loads((tmp_path / "analysis.json").read_text())["detector"]
    assert set(analysis["sequences"]) == {f"scene-{i}" for i in range(4)}
    for s, q in analysis["sequences"].items():
        assert q["idsw_delta"]["trackssm"] == q["idsw"]["trackssm"] - q["idsw"]["kalman"]
        assert q["gaps"]["gap_frames"] > 0 and q["crowding"]["mean_objects_per_frame"] > 0
    corr = analysis["correlations"]["trackssm"]["gap_frames"]
    assert corr["n"] == 4 and (corr["pearson"]["r"] is None) == (corr["reason"] is not None)
    worst = analysis["worst_sequence"]
    assert worst["tracker"] == "trackssm"
    assert len(worst["switch_frames"]["trackssm"]) == analysis["sequences"][worst["sequence"]]["idsw"]["trackssm"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == PLOTS
    for name in PLOTS:
        assert (tmp_path / "plots" / name).read_bytes().startswith(PNG)
    # Same inputs -> byte-identical outputs, the figures included.
    again = tmp_path / "again"
    run_compare(two_trackers, again)
    for name in ["compare.csv", "compare.md", "analysis.json"] + [f"plots/{p}" for p in PLOTS]:
        assert (again / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_compare_idsw_input_errors(two_trackers, tmp_path):
    with pytest.raises(InputError, match="baseline 'ukf' is not one of the trackers"):
        run_compare(two_trackers, tmp_path, baseline="ukf")
    with pytest.raises(InputError, match="expected 'kalman'"):
        run_compare(two_trackers, tmp_path, metrics={"kalman": two_trackers.metrics["trackssm"],
                                                     "trackssm": two_trackers.metrics["kalman"]})
    assert not (tmp_path / "plots").exists() and not (tmp_path / "compare.csv").exists()


def test_compare_idsw_two_sources_and_validity(two_trackers, tmp_path):
    """One section and one JSON key per source; each says whether its verdict means anything."""
    run_compare(two_trackers, tmp_path, sources=("detector", "gt"), cfg={"min_baseline_idsw": 10 ** 6})
    doc = json.loads((tmp_path / "analysis.json").read_text())
    assert set(doc) == {"detector", "gt", "params"}
    for source in ("detector", "gt"):
        assert doc[source]["meaningful"] is False
        assert "kalman has" in doc[source]["reason"] and "< 1000000" in doc[source]["reason"]
        assert 0.7 < doc[source]["detection_recall"] < 0.9  # 20% of the GT boxes were dropped
        corr = doc[source]["correlations"]["trackssm"]["gap_frames"]
        assert corr["n"] == 4 and corr["too_small"] is True
    md = (tmp_path / "compare.md").read_text()
    assert md.count("## Detections:") == 2 and md.count("— not meaningful") == 2
    assert "**Verdict (trackssm): not meaningful**" in md and "more switches" not in md
    assert "**Too small to read:** n = 4 sequences (< 8)" in md
    rows = list(csv.DictReader((tmp_path / "compare.csv").open()))
    assert [r["source"] for r in rows] == ["detector"] * 10 + ["gt"] * 10
    assert {r["draw"] for r in rows} == {""} and {r["seed"] for r in rows} == {""}
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(
        PLOTS + [p.replace("detector_", "gt_") for p in PLOTS])

    run_compare(two_trackers, tmp_path / "ok", cfg={"min_baseline_idsw": 1, "min_correlation_sequences": 4})
    ok = json.loads((tmp_path / "ok" / "analysis.json").read_text())["detector"]
    assert ok["meaningful"] is True and ok["reason"] is None
    assert ok["correlations"]["trackssm"]["gap_frames"]["too_small"] is False
    md = (tmp_path / "ok" / "compare.md").read_text()
    assert "more switches than kalman" in md and "Too small" not in md


@pytest.mark.parametrize(
    "recall, base, meaningful, words",
    [
        (0.0, 0, False, ["match 0.0% of the GT boxes (< 20%)", "kalman has 0 identity switches (< 10)"]),
        (0.19, 50, False, ["match 19.0% of the GT boxes"]),
        (0.5, 9, False, ["kalman has 9 identity switches (< 10)"]),
        (None, 50, False, ["no GT boxes"]),
        (0.2, 10, True, []),
    ],
)
def test_validity_refuses_degenerate_input(recall, base, meaningful, words):
    v = compare.validity(recall, base, "kalman", compare.CompareConfig())
    assert v["meaningful"] is meaningful
    assert (v["reason"] is None) == meaningful
    for w in words:
        assert w in v["reason"]
    from nuscmot.evaluation.stats import PairedData, paired_comparison

    same = paired_comparison(PairedData(np.ones((1, 1, 3)), np.ones((1, 3)), lower_is_better=True), samples=100)
    line = "\n".join(report.verdict_lines("trackssm", {"IDSW": same}, "kalman", v))
    assert ("not meaningful" in line) is (not meaningful)
    assert ("as many switches" in line) is meaningful


def test_empty_detections_give_no_verdict(two_trackers, tmp_path):
    """The demo's old failure: a detector that finds nothing, two empty trackings, 'a verdict'."""
    empty = tmp_path / "empty_dets"
    empty.mkdir()
    for t in ("kalman", "trackssm"):
        (tmp_path / "res" / t).mkdir(parents=True)
    for name in (two_trackers.seqmap.read_text().split()[1:]):
        for folder in (empty, tmp_path / "res" / "kalman", tmp_path / "res" / "trackssm"):
            (folder / f"{name}.txt").write_text("")
    paths = type(two_trackers)(**{**vars(two_trackers), "dets_dir": empty,
                                  "results": {t: tmp_path / "res" / t for t in ("kalman", "trackssm")}})
    paths.metrics = {}
    for t in ("kalman", "trackssm"):
        paths.metrics[t] = tmp_path / "metrics" / f"{t}.json"
        evaluate_tracking.main(
            ["--params", "{}", "--tracker", t, "--results", str(paths.results[t]), "--mot-dir", str(paths.mot_dir),
             "--seqmap", str(paths.seqmap), "--out-csv", str(tmp_path / "metrics" / f"{t}.csv"),
             "--out-json", str(paths.metrics[t])]
        )  # fmt: skip
    run_compare(paths, tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "analysis.json").read_text())["detector"]
    assert doc["meaningful"] is False and doc["detection_recall"] == 0.0
    md = (tmp_path / "out" / "compare.md").read_text()
    assert "as many switches" not in md and "not meaningful" in md
