"""evaluate_tracking: hand-counted metrics, ignoring, input errors, outputs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from nuscmot.stages import evaluate_tracker as evaluate_tracking
from nuscmot.common.errors import InputError
from nuscmot.evaluation.metrics import COLUMNS, EvaluationConfig, evaluate_sequence, summarize, switch_events

from .builders import HAND_COUNT, as_rows, crafted_case, gt_row, res_row, write_dataset


def run_eval(paths, tmp_path, params=None, tracker="trk"):
    out_csv, out_json = tmp_path / "out" / "m.csv", tmp_path / "out" / "m.json"
    evaluate_tracking.main(
        [
            "--params", json.dumps(params or {}), "--tracker", tracker,
            "--results", str(paths.results[tracker]), "--mot-dir", str(paths.mot_dir),
            "--seqmap", str(paths.seqmap), "--out-csv", str(out_csv), "--out-json", str(out_json),
        ]
    )  # fmt: skip
    return out_csv, out_json


def summary_of(case, **cfg):
    c = EvaluationConfig(**cfg)
    ev = evaluate_sequence("s", as_rows(case["gt"], 9), as_rows(case["trk"], 10), case["length"], c)
    return summarize([ev], c.iou_threshold), ev


def test_crafted_case_equals_hand_count(tmp_path):
    paths = write_dataset(tmp_path, {"s1": crafted_case()})
    out_csv, out_json = run_eval(paths, tmp_path)
    report = json.loads(out_json.read_text())
    for row in (report["sequences"]["s1"], report["overall"]):
        for key, expected in HAND_COUNT.items():
            assert row[key] == pytest.approx(expected, abs=1e-12), key
    assert report["tracker"] == "trk"
    assert "most recent match" in report["idsw_convention"]
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["sequence"] for r in rows] == ["s1", "OVERALL"]
    assert list(rows[0]) == COLUMNS
    assert int(rows[1]["IDSW"]) == 2 and float(rows[1]["HOTA"]) > 0


def test_switch_events_name_the_frames():
    _, ev = summary_of(crafted_case())
    assert switch_events(ev) == [(7, 1, 20), (7, 2, 10)]


def test_overall_sums_sequences(tmp_path):
    case = crafted_case()
    paths = write_dataset(tmp_path, {"a": case, "b": case, "c": {"length": 3, "gt": [gt_row(1, 5, 0, 0)], "trk": []}})
    _, out_json = run_eval(paths, tmp_path)
    rep = json.loads(out_json.read_text())
    overall = rep["overall"]
    assert overall["IDSW"] == 4 and overall["FP"] == 2 and overall["FN"] == 5
    assert overall["num_objects"] == 49 and overall["num_frames"] == 27
    assert overall["IDF1"] == pytest.approx(2 * 24 / (49 + 46))
    assert overall["MOTA"] == pytest.approx(1 - (5 + 2 + 4) / 49)


def test_gt_as_results_is_perfect(tmp_path):
    case = crafted_case()
    case["trk"] = [res_row(r[0], r[1], r[2], r[3]) for r in case["gt"]]
    paths = write_dataset(tmp_path, {"s": case})
    _, out_json = run_eval(paths, tmp_path)
    o = json.loads(out_json.read_text())["overall"]
    assert (o["IDSW"], o["FP"], o["FN"], o["MOTA"], o["IDF1"], o["MOTP"]) == (0, 0, 0, 1.0, 1.0, 1.0)
    assert o["HOTA"] == pytest.approx(1.0)


def test_empty_result_file_means_all_misses(tmp_path):
    case = crafted_case()
    case["trk"] = []
    paths = write_dataset(tmp_path, {"s": case})
    assert (paths.results["trk"] / "s.txt").read_text() == ""
    _, out_json = run_eval(paths, tmp_path)
    o = json.loads(out_json.read_text())["overall"]
    assert (o["FN"], o["FP"], o["IDSW"], o["MOTA"], o["ML"], o["HOTA"]) == (24, 0, 0, 0.0, 2, 0.0)
    assert o["MOTP"] is None  # no matches: undefined, written as null


def test_missing_result_file_is_an_input_error(tmp_path):
    paths = write_dataset(tmp_path, {"s": crafted_case()})
    (paths.results["trk"] / "s.txt").unlink()
    with pytest.raises(InputError, match=r"s\.txt: missing result file for sequence s"):
        run_eval(paths, tmp_path)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("which", ["result", "gt"])
def test_malformed_line_names_file_and_line(tmp_path, which):
    paths = write_dataset(tmp_path, {"s": crafted_case()})
    path = paths.results["trk"] / "s.txt" if which == "result" else paths.mot_dir / "s" / "gt" / "gt.txt"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace(",", ";", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        run_eval(paths, tmp_path)
    assert str(err.value).startswith(f"{path}:3: ")
    assert "\n" not in str(err.value)


def test_entry_point_exits_2_with_one_line(tmp_path):
    paths = write_dataset(tmp_path, {"s": crafted_case()})
    path = paths.results["trk"] / "s.txt"
    path.write_text(path.read_text() + "5,1,abc,1,2,3,1,1,-1,-1\n")
    cmd = [
        sys.executable, "-m", "nuscmot.stages.evaluate_tracker", "--params", "{}", "--tracker", "trk",
        "--results", str(paths.results["trk"]), "--mot-dir", str(paths.mot_dir), "--seqmap", str(paths.seqmap),
        "--out-csv", str(tmp_path / "m.csv"), "--out-json", str(tmp_path / "m.json"),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last == f"error: {path}:24: non-numeric field 'abc'"
    assert not (tmp_path / "m.csv").exists() and not (tmp_path / "m.json").exists()


def test_frame_beyond_sequence_and_duplicate_ids_are_errors(tmp_path):
    case = crafted_case()
    case["trk"] = case["trk"] + [res_row(13, 10, 0, 0)]
    paths = write_dataset(tmp_path, {"s": case})
    with pytest.raises(InputError, match=r"s\.txt:\d+: frame 13 is beyond the sequence length 12"):
        run_eval(paths, tmp_path)
    case = crafted_case()
    case["trk"] = case["trk"] + [res_row(5, 20, 0, 0)]
    paths = write_dataset(tmp_path / "dup", {"s": case})
    with pytest.raises(InputError, match=r"s\.txt:\d+: id 20 appears twice in frame 5"):
        run_eval(paths, tmp_path)


def test_bad_params_are_input_errors(tmp_path):
    paths = write_dataset(tmp_path, {"s": crafted_case()})
    with pytest.raises(InputError, match="unknown key"):
        run_eval(paths, tmp_path, {"iou_treshold": 0.5})
    with pytest.raises(InputError, match="iou_threshold"):
        run_eval(paths, tmp_path, {"iou_threshold": 1.5})


def test_min_visibility_ignores_gt_and_the_hypotheses_on_it():
    # Object 1 fully tracked; object 2 at visibility level 1 is tracked by hyp 20 in frames 1-2
    # and missed in frame 3; hyp 30 is a false positive far away in frame 3.
    gt = [gt_row(f, 1, 10, 10) for f in (1, 2, 3)] + [gt_row(f, 2, 100, 100, vis=1) for f in (1, 2, 3)]
    trk = [res_row(f, 10, 11, 11) for f in (1, 2, 3)] + [res_row(f, 20, 101, 101) for f in (1, 2)]
    trk.append(res_row(3, 30, 300, 300))
    case = {"length": 3, "gt": gt, "trk": trk}
    plain, _ = summary_of(case)
    assert (plain["s"]["FP"], plain["s"]["FN"], plain["s"]["num_objects"]) == (1, 1, 6)
    ignored, _ = summary_of(case, min_visibility=2)
    row = ignored["s"]
    assert (row["FP"], row["FN"], row["num_objects"], row["num_predictions"]) == (1, 0, 3, 4)
    assert (row["ignored_gt"], row["ignored_predictions"], row["MOTA"]) == (3, 2, pytest.approx(2 / 3))
    # A hypothesis below distractor_iou of the ignored box is not removed: it is a false positive.
    strict, _ = summary_of(case, min_visibility=2, distractor_iou=0.95)
    assert (strict["s"]["FP"], strict["s"]["ignored_predictions"]) == (3, 0)


def test_conf_zero_gt_is_ignored():
    case = {"length": 1, "gt": [gt_row(1, 1, 10, 10, conf=0)], "trk": [res_row(1, 5, 10, 10)]}
    row, _ = summary_of(case)
    assert (row["s"]["FP"], row["s"]["FN"], row["s"]["ignored_gt"], row["s"]["ignored_predictions"]) == (0, 0, 1, 1)


def test_iou_threshold_gates_matches():
    # 20x20 boxes shifted by 6 px in x: IoU = 14*20 / (800 - 280) = 0.538
    case = {"length": 1, "gt": [gt_row(1, 1, 10, 10)], "trk": [res_row(1, 5, 16, 10)]}
    assert summary_of(case, iou_threshold=0.5)[0]["s"]["FN"] == 0
    row = summary_of(case, iou_threshold=0.6)[0]["s"]
    assert (row["FN"], row["FP"]) == (1, 1)


def test_class_aware_matching():
    case = {"length": 1, "gt": [gt_row(1, 1, 10, 10, cls=1)], "trk": [res_row(1, 5, 10, 10, cls=2)]}
    assert summary_of(case)[0]["s"]["FN"] == 0
    row = summary_of(case, class_aware=True)[0]["s"]
    assert (row["FN"], row["FP"], row["HOTA"]) == (1, 1, 0.0)


def test_idsw_convention_differs_from_trackeval_after_a_gap():
    """Object 1 is matched to hyp 1, missed in frame 2 (hyp 9 elsewhere), then reappears with
    hyp 1 (IoU 0.54) and hyp 2 (IoU 0.90) on it: motmetrics keeps hyp 1 (0 switches), TrackEval
    only looks at frame 2 and takes the better hyp 2 (1 switch)."""
    gt = [gt_row(f, 1, 100, 100, 40, 40) for f in (1, 2, 3)]
    trk = [res_row(1, 1, 100, 100, 40, 40), res_row(2, 9, 300, 300), res_row(3, 1, 100, 112, 40, 40), res_row(3, 2, 100, 102, 40, 40)]
    row, ev = summary_of({"length": 3, "gt": gt, "trk": trk})
    assert (row["s"]["IDSW"], row["s"]["IDSW_trackeval"]) == (0, 1)
    assert switch_events(ev) == []


def test_outputs_are_deterministic(tmp_path):
    rng_case = crafted_case()
    paths = write_dataset(tmp_path, {"s1": rng_case, "s2": rng_case})
    csv1, json1 = run_eval(paths, tmp_path)
    first = (csv1.read_bytes(), json1.read_bytes())
    csv2, json2 = run_eval(paths, tmp_path)
    assert (csv2.read_bytes(), json2.read_bytes()) == first


def test_frame_groups_match_a_python_loop():
    from nuscmot.evaluation.sequences import frame_groups

    rng = np.random.default_rng(0)
    frames = rng.integers(1, 8, 200)
    ids = rng.permutation(200)
    groups = frame_groups(frames, ids, 9)
    assert len(groups) == 9
    for t, g in enumerate(groups, start=1):
        expected = sorted((i for i in range(200) if frames[i] == t), key=lambda i: ids[i])
        assert g.tolist() == expected


@pytest.mark.parametrize("config_file", ["config.yaml", "tests/configs/tiny.yaml"])
def test_config_slices_build_typed_configs(repo_root, config_file):
    import jsonschema
    import yaml

    from nuscmot.common.config import from_dict
    from nuscmot.evaluation.compare import CompareConfig

    cfg = yaml.safe_load((repo_root / config_file).read_text())
    schema = yaml.safe_load((repo_root / "workflow" / "schemas" / "evaluation.schema.yaml").read_text())
    for key, cls in (("evaluation", EvaluationConfig), ("compare", CompareConfig)):
        jsonschema.validate(cfg[key], {**schema["$defs"][key], "$defs": schema["$defs"]})
        assert from_dict(cls, cfg[key], where=key) == cls(**cfg[key])
        assert set(cfg[key]) == set(schema["$defs"][key]["properties"])
