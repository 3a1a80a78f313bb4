"""Grid expansion: Paramspace cells, stable value formatting, per-cell params."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuscmot.common.errors import InputError
from nuscmot.sweep import grid
from nuscmot.sweep.plan import SweepPlan

TYPES = {"match_thresh": float, "max_age": int, "track_high_thresh": float, "reanchor": bool}


def test_cells_are_the_product_named_by_sorted_keys():
    cells = grid.cells({"track_high_thresh": [0.5, 0.6], "max_age": [15, 30], "match_thresh": [0.8]}, TYPES)
    assert [c.name for c in cells] == [
        "match_thresh~0.8/max_age~15/track_high_thresh~0.5",
        "match_thresh~0.8/max_age~15/track_high_thresh~0.6",
        "match_thresh~0.8/max_age~30/track_high_thresh~0.5",
        "match_thresh~0.8/max_age~30/track_high_thresh~0.6",
    ]
    assert cells[1].values == {"match_thresh": 0.8, "max_age": 15, "track_high_thresh": 0.6}
    assert type(cells[0].values["max_age"]) is int and type(cells[0].values["match_thresh"]) is float


def test_paramspace_instance_patterns_are_the_cell_names():
    cells = grid.cells({"max_age": [30, 45], "match_thresh": [0.7, 0.8]}, TYPES)
    space = grid.paramspace(cells, single_wildcard="cell")
    assert list(space.instance_patterns) == [c.name for c in cells]
    assert space.wildcard_pattern == "{cell}"
    regex = re.compile(grid.wildcard_regex(space.columns))
    assert all(regex.fullmatch(c.name) for c in cells)
    assert not regex.fullmatch("match_thresh~0.7/max_age~30/extra")
    assert not regex.fullmatch("match_thresh~0.7/x/max_age~30")


@pytest.mark.parametrize(
    "key,value,text",
    [("match_thresh", 0.80, "0.8"), ("match_thresh", 1, "1.0"), ("match_thresh", 0.1 + 0.2, "0.30000000000000004"),
     ("max_age", 30, "30"), ("max_age", 30.0, "30"), ("reanchor", False, "false")],
)  # fmt: skip
def test_values_are_formatted_by_declared_type(key, value, text):
    assert grid.cells({key: [value]}, TYPES)[0].name == f"{key}~{text}"


@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=6, unique=True))
def test_float_names_round_trip_and_never_collide(values):
    cells = grid.cells({"match_thresh": values}, TYPES)
    texts = [grid.parse_cell_name(c.name)["match_thresh"] for c in cells]
    assert [float(t) for t in texts] == [float(v) for v in values]
    assert len(set(texts)) == len(values)


def block(plan: SweepPlan, tracker: str) -> dict:
    return json.loads(plan.block_params(tracker))


def test_adding_a_value_keeps_every_existing_cell_and_its_values():
    base = {"tracking": {"trackers": ["kalman"], "association": {"match_thresh": 0.8, "max_age_s": 15.0, "min_hits": 2},
                         "motion": {"kalman": {"std_weight_position": 0.05}}}}
    old = SweepPlan({**base, "sweep": {"grid": {"match_thresh": [0.7, 0.8], "max_age_s": [7.5, 15]}}})
    new = SweepPlan({**base, "sweep": {"grid": {"max_age_s": [7.5, 15.0, 22.5], "match_thresh": [0.8, 0.7, 1]}}})
    old_cells = {c["name"]: c["values"] for c in block(old, "kalman")["cells"]}
    new_cells = {c["name"]: c["values"] for c in block(new, "kalman")["cells"]}
    assert set(old_cells) < set(new_cells) and len(set(new_cells) - set(old_cells)) == 3 * 3 - 2 * 2
    assert all(new_cells[n] == v for n, v in old_cells.items())
    params = block(old, "kalman")
    assert params["cfg"] == {"match_thresh": 0.8, "max_age_s": 15.0, "min_hits": 2}
    assert params["motion"] == {"std_weight_position": 0.05}
    assert old_cells["match_thresh~0.7/max_age_s~7.5"] == {"match_thresh": 0.7, "max_age_s": 7.5}


def test_block_params_carry_the_base_slices_the_cells_override():
    grid_cfg = {"sweep": {"grid": {"max_age_s": [7.5]}}}
    track = {"trackers": ["kalman"], "association": {"max_age_s": 15.0, "min_hits": 2}}
    a = SweepPlan({"tracking": track, **grid_cfg})
    c = SweepPlan({"tracking": {**track, "association": {"max_age_s": 15.0, "min_hits": 3}}, **grid_cfg})
    assert block(a, "kalman")["cells"] == block(c, "kalman")["cells"] == [
        {"name": "max_age_s~7.5", "values": {"max_age_s": 7.5}}]
    assert block(a, "kalman")["cfg"]["min_hits"] == 2 and block(c, "kalman")["cfg"]["min_hits"] == 3


def test_motion_keys_go_to_their_own_tracker_only():
    tracking = {"trackers": ["kalman", "trackssm"], "association": {"min_hits": 2},
                "motion": {"kalman": {"std_weight_position": 0.05}, "trackssm": {"jit": True, "rollout_horizon": 3}},
                "score_transform": {"kind": "none"}}
    plan = SweepPlan({"tracking": tracking, "sweep": {"grid": {"min_hits": [2]},
                                                      "motion": {"trackssm": {"rollout_horizon": [1, 5]}}}})
    assert [c.name for c in plan.cells["trackssm"]] == ["min_hits~2/trackssm__rollout_horizon~1",
                                                        "min_hits~2/trackssm__rollout_horizon~5"]
    assert [c.name for c in plan.cells["kalman"]] == ["min_hits~2"]  # no repeated Kalman runs
    ssm = block(plan, "trackssm")
    assert ssm["motion"] == {"jit": True, "rollout_horizon": 3} and ssm["score_transform"] == {"kind": "none"}
    assert ssm["cells"][1]["values"] == {"min_hits": 2, "trackssm__rollout_horizon": 5}
    with pytest.raises(InputError, match="not a valid int"):
        SweepPlan({"tracking": tracking, "sweep": {"grid": {"min_hits": [2]}, "motion": {"trackssm": {"rollout_horizon": [2.5]}}}})
    with pytest.raises(InputError, match="unknown parameter"):
        SweepPlan({"tracking": tracking, "sweep": {"grid": {"min_hits": [2]}, "motion": {"trackssm": {"no_such_key": [1]}}}})


def test_real_association_types_come_from_the_tracker():
    types = grid.association_types()
    assert types["match_thresh"] is float and types["max_age_s"] is float and types["per_class"] is bool
    assert "motion" not in types
    motion = grid.motion_types()
    assert motion["trackssm__rollout_horizon"] is int and motion["trackssm__rollout_fallback"] is str
    assert motion["kalman__std_weight_position"] is float


@pytest.mark.parametrize(
    "bad,problem",
    [({"match_thresh": [0.8, 0.80]}, "duplicate value"), ({"max_age": [37.5]}, "not a valid int"),
     ({"nonsense": [1]}, "unknown parameter"), ({"max_age": []}, "non-empty list"), ({}, "no parameters"),
     ({"reanchor": [1]}, "not a valid bool")],
)  # fmt: skip
def test_bad_grids_are_one_line_input_errors(bad, problem):
    with pytest.raises(InputError, match=problem) as err:
        grid.cells(bad, TYPES)
    assert "\n" not in str(err.value) and str(err.value).startswith("sweep.grid")


def test_no_sweep_section_means_no_cells():
    plan = SweepPlan({"tracking": {"trackers": ["kalman"], "association": {}}})
    assert plan.cells == {} and plan.sweep is None
