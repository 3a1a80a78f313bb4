"""``check_detections``: a ``files`` source is checked before tracking; each bad file is one line
naming the file (and line), and nothing is written unless every sequence passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nuscmot.common.errors import InputError
from nuscmot.common.mot import SeqInfo, write_seqinfo, write_seqmap
from nuscmot.stages import check_detections

GOOD = "1,-1,10.00,20.00,30.00,40.00,0.9000,1,-1,-1\n2,-1,12.00,20.00,30.00,40.00,0.4000,5,-1,-1\n"
SIGMOID = {"kind": "sigmoid", "offset": 0.0}


@pytest.fixture()
def case(tmp_path) -> dict[str, Path]:
    """Two sequences of 3 frames and a source folder with a good file for each."""
    names = ["scene-a", "scene-b"]
    for name in names:
        write_seqinfo(tmp_path / "mot" / name / "seqinfo.ini", SeqInfo(name=name, length=3, width=100, height=80))
    write_seqmap(tmp_path / "seqmap.txt", names)
    src = tmp_path / "src"
    src.mkdir()
    for name in names:
        (src / f"{name}.txt").write_text(GOOD)
    return {"root": tmp_path, "src": src, "mot": tmp_path / "mot", "seqmap": tmp_path / "seqmap.txt",
            "out": tmp_path / "out"}


def run(case, transform=None, num_classes=7) -> None:
    check_detections.main([
        "--params", json.dumps({"score_transform": transform, "num_classes": num_classes}),
        "--src-dir", str(case["src"]), "--mot-dir", str(case["mot"]), "--seqmap", str(case["seqmap"]),
        "--out-dir", str(case["out"]),
    ])


def bad(case, text: str, match: str, transform=None) -> InputError:
    """scene-b holds ``text``: one line naming the file (and line); nothing written."""
    (case["src"] / "scene-b.txt").write_text(text)
    with pytest.raises(InputError, match=match) as err:
        run(case, transform)
    assert "\n" not in str(err.value) and str(case["src"] / "scene-b.txt") in str(err.value)
    assert not case["out"].exists()
    return err.value


def test_good_files_are_copied_byte_for_byte(case):
    (case["src"] / "extra.txt").write_text("not in the seqmap\n")
    run(case)
    assert sorted(p.name for p in case["out"].iterdir()) == ["scene-a.txt", "scene-b.txt"]
    assert (case["out"] / "scene-b.txt").read_bytes() == GOOD.encode()


def test_missing_sequence_names_the_file_and_the_seqmap(case):
    (case["src"] / "scene-b.txt").unlink()
    with pytest.raises(InputError) as err:
        run(case)
    msg = str(err.value)
    assert "\n" not in msg and str(case["src"] / "scene-b.txt") in msg and str(case["seqmap"]) in msg
    assert "missing detection file of sequence scene-b" in msg
    assert not case["out"].exists()


def test_frame_beyond_the_sequence(case):
    err = bad(case, GOOD + "4,-1,1,1,5,5,0.5,1,-1,-1\n", r"frame 4 is beyond the sequence length 3")
    assert err.line == 3


def test_frame_zero(case):
    assert bad(case, "0,-1,1,1,5,5,0.5,1,-1,-1\n", r"frame must be >= 1").line == 1


def test_wrong_column_count(case):
    assert bad(case, GOOD + "\n1,-1,1,1,5,5,0.5,1\n", r"expected 10 comma-separated columns").line == 4


@pytest.mark.parametrize("cls", [0, 8])
def test_unknown_class(case, cls):
    err = bad(case, GOOD + f"3,-1,1,1,5,5,0.5,{cls},-1,-1\n", rf"unknown class {cls} \(classes are 1..7")
    assert err.line == 3


def test_score_outside_unit_interval_without_transform(case):
    err = bad(case, "1,-1,1,1,5,5,2.5,1,-1,-1\n", r"detection score 2.5 is outside \[0, 1\].*score_transform")
    assert err.line == 1


def test_logits_pass_with_a_score_transform(case):
    (case["src"] / "scene-b.txt").write_text("1,-1,1,1,5,5,2.5,1,-1,-1\n2,-1,1,1,5,5,-3,1,-1,-1\n")
    run(case, SIGMOID)
    assert (case["out"] / "scene-b.txt").read_text().startswith("1,-1,1,1,5,5,2.5,")  # copied as given


def test_a_failed_check_keeps_the_previous_output(case):
    run(case)
    (case["src"] / "scene-a.txt").write_text("1,-1,1,1,5,5,0.5,9,-1,-1\n")
    with pytest.raises(InputError, match="unknown class 9"):
        run(case)
    assert (case["out"] / "scene-a.txt").read_bytes() == GOOD.encode()


def test_entry_point_prints_one_line(case):
    (case["src"] / "scene-a.txt").write_text("1,-1,1,1,5,5,1.5,1,-1,-1\n")
    proc = subprocess.run([sys.executable, "-m", "nuscmot.stages.check_detections", "--params",
                           json.dumps({"score_transform": None, "num_classes": 7}), "--src-dir", str(case["src"]),
                           "--mot-dir", str(case["mot"]), "--seqmap", str(case["seqmap"]), "--out-dir",
                           str(case["out"])], capture_output=True, text=True)
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: {case['src'] / 'scene-a.txt'}:1: detection score 1.5 is outside [0, 1], the range of "
                      "every tracking threshold (a detector that emits logits needs tracking.score_transform.kind: "
                      "sigmoid)"]


def test_motchallenge_layout_files_by_pattern_and_configured_classes(repo_root, tmp_path):
    """``--pattern '{seq}/det/det.txt'`` reads a MOTChallenge folder in place; the class column is
    checked against the dataset's classes, named in the message."""
    fixture = repo_root / "tests" / "fixtures" / "mot_tiny"
    params = {"score_transform": None, "num_classes": 2, "classes": ["pedestrian", "car"]}
    args = ["--src-dir", str(fixture), "--pattern", "{seq}/det/det.txt", "--mot-dir", str(fixture),
            "--seqmap", str(fixture / "seqmaps" / "test.txt")]
    check_detections.main(["--params", json.dumps(params), *args, "--out-dir", str(tmp_path / "out")])
    for name in ("test-01", "test-02"):
        assert (tmp_path / "out" / f"{name}.txt").read_bytes() == (fixture / name / "det" / "det.txt").read_bytes()
    one = {**params, "num_classes": 1, "classes": ["pedestrian"]}
    with pytest.raises(InputError, match=r"test-01/det/det.txt:\d+: unknown class 2 \(classes are 1..1: pedestrian\)"):
        check_detections.main(["--params", json.dumps(one), *args, "--out-dir", str(tmp_path / "out1")])
    with pytest.raises(InputError, match=r"--pattern: must contain \{seq\}"):
        check_detections.main(["--params", json.dumps(params), *args[:2], "--pattern", "det.txt", *args[4:],
                               "--out-dir", str(tmp_path / "out2")])
