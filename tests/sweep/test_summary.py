"""Best-cell selection (crafted tables) and the sweep_summary entry point."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from nuscmot.stages import sweep_tracking as sweep_summary
from nuscmot.common.errors import InputError
from nuscmot.sweep import plots
from nuscmot.sweep.summary import Objective, best_cells


def row(tracker, cell, idsw, mota, idf1=0.5, **extra):
    return {"tracker": tracker, "cell": cell, "IDSW": idsw, "MOTA": mota, "IDF1": idf1, **extra}


TABLE = [
    row("kalman", "a", 5, 0.700),
    row("kalman", "b", 3, 0.6955),  # within 0.5 points of the best MOTA (0.700)
    row("kalman", "c", 1, 0.690),  # fewest switches but 1 point below: excluded by the guard
    row("kalman", "d", 3, 0.698),  # ties with b on IDSW, higher MOTA: wins
    row("trackssm", "a", 2, 0.5),
    row("trackssm", "b", 2, 0.5),  # full tie: the earlier cell (a) wins
    row("trackssm", "c", None, 0.9),  # no IDSW: never chosen (and not the guard's best)
]


def test_default_objective_lowest_idsw_within_half_a_mota_point():
    best = best_cells(TABLE, Objective())
    assert best["kalman"]["cell"] == "d" and best["kalman"]["candidates"] == 3 and best["kalman"]["cells"] == 4
    assert best["kalman"]["guard_best"] == pytest.approx(0.700)
    assert best["trackssm"]["cell"] == "a"


def test_guard_tolerance_and_no_guard():
    assert best_cells(TABLE, Objective(guard_points=1.0))["kalman"]["cell"] == "c"
    assert best_cells(TABLE, Objective(guard_points=0.2))["kalman"]["cell"] == "d"
    assert best_cells(TABLE, Objective(guard_points=0.0))["kalman"]["cell"] == "a"
    assert best_cells(TABLE, Objective(guard_metric=None))["kalman"]["cell"] == "c"


def test_maximise_another_metric():
    rows = [row("k", "a", 1, 0.7, idf1=0.60), row("k", "b", 9, 0.7, idf1=0.65), row("k", "c", 0, 0.2, idf1=0.9)]
    assert best_cells(rows, Objective(metric="IDF1", goal="max"))["k"]["cell"] == "b"
    assert best_cells(rows, Objective(metric="IDF1", goal="max", guard_metric=None))["k"]["cell"] == "c"


def test_a_guard_metric_of_exactly_zero_is_a_value_not_a_missing_one():
    # every cell at MOTA 0.0 (a source that matches nothing): still cells to choose from
    rows = [row("k", "a", 3, 0.0), row("k", "b", 1, 0.0)]
    assert best_cells(rows, Objective())["k"]["cell"] == "b"


def test_a_tracker_without_usable_cells_is_an_input_error():
    with pytest.raises(InputError, match="no cell of tracker 'k'"):
        best_cells([row("k", "a", None, 0.5)], Objective())


@pytest.mark.parametrize("kwargs", [{"goal": "lowest"}, {"guard_metric": "FP"}, {"guard_points": -1}])
def test_bad_objective(kwargs):
    with pytest.raises(InputError):
        Objective(**kwargs)


def test_heatmap_table_min_and_best():
    rows = [
        {"a": a, "b": b, "c": c, "IDSW": a * 10 + b + c}
        for a in (1, 2) for b in (0.5, 0.6) for c in (3, 1)
    ]  # fmt: skip
    xs, ys, t = plots.heatmap_table(rows, "a", "b", "IDSW", "min")
    assert xs == [1, 2] and ys == [0.5, 0.6]
    np.testing.assert_allclose(t, [[11.5, 21.5], [11.6, 21.6]])
    _, _, t = plots.heatmap_table(rows, "a", "b", "IDSW", "best", at={"a": 1, "b": 0.5, "c": 3})
    np.testing.assert_allclose(t, [[13.5, 23.5], [13.6, 23.6]])


# ---------------------------------------------------------------- entry point


def overall(idsw, mota):
    return {"IDSW": idsw, "IDSW_trackeval": idsw, "MOTA": mota, "IDF1": 0.5, "HOTA": 0.4, "FP": 1, "FN": 2, "Frag": 0}


GRID = {"match_thresh": [0.7, 0.8], "max_age_s": [15.0], "track_high_thresh": [0.5, 0.6]}


def write_blocks(root, trackers=("kalman", "trackssm"), sources=("gt",), drop_last=False, grid=GRID):
    """One sweep_block output per (source, tracker) over ``grid`` (cells in the planner's order)."""
    from nuscmot.sweep import grid as sweep_grid

    paths = []
    for s in sources:
        for t in trackers:
            cells = sweep_grid.cells(grid, sweep_grid.parameter_types())
            rows = []
            for c in cells:
                i = grid["match_thresh"].index(c.values["match_thresh"]) if "match_thresh" in c.values else 0
                j = grid["track_high_thresh"].index(c.values["track_high_thresh"]) if "track_high_thresh" in c.values else 0
                idsw = 10 - 3 * i - j if "max_age_s" not in grid or len(grid) > 1 else int(c.values["max_age_s"])
                rows.append({"cell": c.name, "values": c.values, "association": {**c.values, "min_hits": 2},
                             "motion": {"jit": True}, "overall": overall(idsw, 0.7 - 0.002 * (i + j))})
            if drop_last:
                rows = rows[:-1]
            p = root / s / f"{t}.json"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(json.dumps({"tracker": t, "source": s, "split": "tune", "sequences": ["x"], "rows": rows}))
            paths.append(p)
    return paths


def run(tmp_path, paths, grid=GRID, **cfg):
    out = tmp_path / "out"
    params = {"cfg": {"grid": grid, **cfg}, "trackers": ["kalman", "trackssm"]}
    sweep_summary.main([
        "--params", json.dumps(params), "--blocks", *map(str, paths), "--out-csv", str(out / "summary.csv"),
        "--out-best", str(out / "best.json"), "--heatmaps-dir", str(out / "heatmaps"),
    ])  # fmt: skip
    return out


@pytest.mark.slow
def test_sweep_summary_end_to_end(tmp_path):
    out = run(tmp_path, write_blocks(tmp_path / "sweep", sources=("detector", "gt")))
    with open(out / "summary.csv") as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0]) == ["source", "tracker", "match_thresh", "max_age_s", "track_high_thresh", "IDSW",
                              "IDSW_trackeval", "MOTA", "IDF1", "HOTA", "FP", "FN", "cell"]  # fmt: skip
    assert len(table) == 16 and table[0]["match_thresh"] == "0.7" and table[0]["max_age_s"] == "15.0"
    best = json.loads((out / "best.json").read_text())
    # MOTA 0.700 - 0.002 * (i + j): cells with i + j <= 2 are within 0.5 points; fewest IDSW at i = j = 1.
    chosen = best["sources"]["gt"]["kalman"]
    assert chosen["cell"] == "match_thresh~0.8/max_age_s~15.0/track_high_thresh~0.6"
    assert chosen["params"] == {"match_thresh": 0.8, "max_age_s": 15.0, "track_high_thresh": 0.6}
    assert chosen["association"] == {**chosen["params"], "min_hits": 2} and chosen["motion"] == {"jit": True}
    assert chosen["metrics"]["IDSW"] == 6 and best["split"] == "tune"
    names = sorted(p.name for p in (out / "heatmaps").iterdir())
    assert names == sorted(
        f"idsw_{s}_{t}_{y}_vs_{x}.png" for s in ("detector", "gt") for t in ("kalman", "trackssm")
        for y, x in [("match_thresh", "max_age_s"), ("match_thresh", "track_high_thresh"), ("max_age_s", "track_high_thresh")]
    )  # fmt: skip
    assert all((out / "heatmaps" / n).read_bytes().startswith(b"\x89PNG") for n in names)
    first = {n: (out / "heatmaps" / n).read_bytes() for n in names}
    out2 = run(tmp_path / "again", write_blocks(tmp_path / "again" / "sweep", sources=("detector", "gt")))
    assert {n: (out2 / "heatmaps" / n).read_bytes() for n in names} == first  # byte-identical rerun
    assert (out2 / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()


def test_sweep_summary_single_key_grid(tmp_path):
    grid = {"max_age_s": [7.5, 15.0]}
    out = run(tmp_path, write_blocks(tmp_path, grid=grid), grid=grid, heatmap="best")
    assert sorted(p.name for p in (out / "heatmaps").iterdir()) == ["idsw_gt_kalman_max_age_s.png",
                                                                    "idsw_gt_trackssm_max_age_s.png"]
    assert json.loads((out / "best.json").read_text())["sources"]["gt"]["trackssm"]["params"] == {"max_age_s": 7.5}


def test_a_missing_cell_is_an_input_error_and_writes_nothing(tmp_path):
    with pytest.raises(InputError, match="its cells differ from the configured grid"):
        run(tmp_path, write_blocks(tmp_path / "sweep", drop_last=True))
    assert not (tmp_path / "out").exists()


def test_a_cell_outside_the_grid_is_an_input_error(tmp_path):
    paths = write_blocks(tmp_path / "sweep")
    with pytest.raises(InputError, match="its cells differ from the configured grid"):
        run(tmp_path, paths, grid={**GRID, "match_thresh": [0.7]})
    with pytest.raises(InputError, match="second block for tracker run kalman"):
        run(tmp_path, paths + paths[:1])
