"""The entry points on the converted tiny synthetic dataset, with GT-derived results."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nuscmot.stages import compare_idsw, evaluate_tracker as evaluate_tracking
from nuscmot.common.mot import read_mot, read_seqmap, write_mot


def gt_as(kind: str, gt: np.ndarray) -> np.ndarray:
    n = len(gt)
    ids = gt[:, 1] if kind == "result" else -np.ones(n)
    return np.column_stack([gt[:, 0], ids, gt[:, 2:6], np.ones(n), gt[:, 7], -np.ones(n), -np.ones(n)])


@pytest.fixture(scope="module")
def tiny_runs(tiny_converted, tiny_config, tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_eval")
    names = read_seqmap(tiny_converted.seqmap)
    swapped = None
    for name in names:
        gt = read_mot(tiny_converted.mot_dir / name / "gt" / "gt.txt", "gt")
        perfect = gt_as("result", gt)
        write_mot(root / "kalman" / f"{name}.txt", perfect, "result")
        worse = perfect.copy()
        if swapped is None:  # one track takes a fresh id halfway through: exactly one switch
            tid = int(np.bincount(gt[:, 1].astype(int)).argmax())
            frames = np.sort(gt[gt[:, 1] == tid, 0])
            half = frames[len(frames) // 2]
            worse[(worse[:, 1] == tid) & (worse[:, 0] >= half), 1] = 99999
            swapped = name
        write_mot(root / "trackssm" / f"{name}.txt", worse, "result")
        write_mot(root / "dets" / f"{name}.txt", gt_as("det", gt), "det")
    for t in ("kalman", "trackssm"):
        evaluate_tracking.main(
            ["--params", json.dumps(tiny_config["evaluation"]), "--tracker", t, "--results", str(root / t),
             "--mot-dir", str(tiny_converted.mot_dir), "--seqmap", str(tiny_converted.seqmap),
             "--out-csv", str(root / "metrics" / f"{t}.csv"), "--out-json", str(root / "metrics" / f"{t}.json")]
        )  # fmt: skip
    return root, names, swapped


def test_gt_as_results_is_perfect(tiny_runs):
    root, names, _ = tiny_runs
    rep = json.loads((root / "metrics" / "kalman.json").read_text())
    assert list(rep["sequences"]) == sorted(names)
    o = rep["overall"]
    assert o["num_objects"] > 0
    assert (o["IDSW"], o["FP"], o["FN"], o["MOTA"], o["IDF1"]) == (0, 0, 0, 1.0, 1.0)
    assert o["HOTA"] == pytest.approx(1.0)
    assert (root / "metrics" / "kalman.csv").read_text().splitlines()[-1].startswith("OVERALL,0,0,1.000000")


def test_compare_on_tiny(tiny_runs, tiny_converted, tiny_config):
    root, names, swapped = tiny_runs
    out = root / "compare"
    compare_idsw.main(
        ["--params", json.dumps({"cfg": {**tiny_config["compare"], "min_baseline_idsw": 0},
                                 "evaluation": tiny_config["evaluation"]}),
         "--runs", json.dumps([{"source": "gt", "draw": None, "tracker": t, "seed": None,
                                "metrics": str(root / "metrics" / f"{t}.json"), "results": str(root / t),
                                "dets": str(root / "dets")} for t in ("kalman", "trackssm")]),
         "--mot-dir", str(tiny_converted.mot_dir), "--seqmap", str(tiny_converted.seqmap),
         "--out-csv", str(out / "compare_idsw.csv"), "--out-md", str(out / "compare_idsw.md"),
         "--out-json", str(out / "idsw_paradox_analysis.json"), "--plots-dir", str(out / "plots")]
    )  # fmt: skip
    analysis = json.loads((out / "idsw_paradox_analysis.json").read_text())["gt"]
    assert analysis["meaningful"] and analysis["detection_recall"] == 1.0  # detections = GT
    assert analysis["sequences"][swapped]["idsw_delta"] == {"trackssm": 1}
    assert analysis["worst_sequence"]["sequence"] == swapped
    assert all(q["gaps"]["gap_frames"] == 0 for q in analysis["sequences"].values())  # detections = GT
    md = (out / "compare_idsw.md").read_text()
    assert "Verdict (trackssm): 1 more switches than kalman" in md  # the ratio is undefined: kalman has 0
    assert len(list((out / "plots").glob("*.png"))) == 4
