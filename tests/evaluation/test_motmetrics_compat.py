"""motmetrics 1.4.0 on numpy 1.26 / pandas 3: the paths we use work, the broken one is avoided."""

from __future__ import annotations

import warnings

import motmetrics as mm
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuscmot.evaluation import motmetrics_compat
from nuscmot.evaluation.metrics import MM_METRICS, EvaluationConfig, evaluate_sequence

from .builders import as_rows, crafted_case, random_sequence


def _accumulators(n=3, seed=0):
    rng = np.random.default_rng(seed)
    cfg = EvaluationConfig()
    accs = []
    for i in range(n):
        case = random_sequence(rng, length=30, objects=8, swap=0.05)
        accs.append(evaluate_sequence(f"s{i}", as_rows(case["gt"], 9), as_rows(case["trk"], 10), 30, cfg).accumulator)
    return accs


def test_overall_summary_works_on_pandas3_without_merging_events(monkeypatch):
    def broken(*args, **kwargs):
        raise AssertionError("merge_event_dataframes must not be used (DataFrame.append is gone in pandas 2+)")

    monkeypatch.setattr(mm.MOTAccumulator, "merge_event_dataframes", staticmethod(broken))
    accs = _accumulators()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas 3 FutureWarnings / copy-on-write warnings would fail here
        table = motmetrics_compat.summarize(accs, ["a", "b", "c"], list(MM_METRICS))
    assert list(table.index) == ["a", "b", "c", "OVERALL"]
    per_seq, overall = table.loc[["a", "b", "c"]], table.loc["OVERALL"]
    for col in ("num_switches", "num_false_positives", "num_misses", "num_objects", "num_predictions",
                "num_fragmentations", "mostly_tracked", "num_frames", "num_matches"):  # fmt: skip
        assert overall[col] == per_seq[col].sum(), col
    assert overall["num_switches"] > 0
    # Ratios are recomputed from the summed counts, not averaged.
    assert overall["mota"] == pytest.approx(
        1 - (per_seq["num_misses"].sum() + per_seq["num_switches"].sum() + per_seq["num_false_positives"].sum())
        / per_seq["num_objects"].sum()
    )
    detections = per_seq["num_matches"] + per_seq["num_switches"]
    assert overall["motp"] == pytest.approx((per_seq["motp"] * detections).sum() / detections.sum())


def test_overall_of_one_sequence_equals_the_sequence():
    acc = _accumulators(1)[0]
    table = motmetrics_compat.summarize([acc], ["a"], list(MM_METRICS))
    for col in MM_METRICS:
        assert table.loc["OVERALL", col] == pytest.approx(table.loc["a", col], nan_ok=True), col


def test_merge_event_dataframes_is_still_broken_in_motmetrics():
    """Why point 2 of motmetrics_compat exists; if this fails, motmetrics was fixed upstream."""
    accs = _accumulators(2)
    with pytest.raises(AttributeError, match="append"):
        mm.MOTAccumulator.merge_event_dataframes(accs)


boxes = st.lists(
    st.tuples(*[st.floats(0, 200, allow_nan=False)] * 2, *[st.floats(0.0, 60, allow_nan=False)] * 2), max_size=6
)


@settings(max_examples=60, deadline=None)
@given(a=boxes, b=boxes)
def test_iou_distances_match_iou_matrix_with_and_without_asfarray(a, b):
    a = np.asarray(a, dtype=float).reshape(-1, 4)
    b = np.asarray(b, dtype=float).reshape(-1, 4)
    d = motmetrics_compat.iou_distances(a, b)
    assert d.shape == (len(a), len(b))
    assert np.all((d >= 0) & (d <= 1))
    if len(a) and len(b):
        np.testing.assert_allclose(d, mm.distances.iou_matrix(a, b, max_iou=1.0))
    saved = np.asfarray
    try:
        del np.asfarray  # numpy 2 has no asfarray
        np.testing.assert_allclose(motmetrics_compat.iou_distances(a, b), d)
    finally:
        np.asfarray = saved


def test_iou_of_identical_and_disjoint_boxes():
    a = np.array([[0, 0, 10, 10], [100, 100, 10, 10]], dtype=float)
    np.testing.assert_allclose(motmetrics_compat.iou(a, a), np.eye(2))
    assert motmetrics_compat.iou(a, np.zeros((0, 4))).shape == (2, 0)


def test_crafted_accumulator_events():
    case = crafted_case()
    ev = evaluate_sequence("s", as_rows(case["gt"], 9), as_rows(case["trk"], 10), 12, EvaluationConfig())
    types = ev.accumulator.mot_events["Type"].value_counts()
    assert (types["SWITCH"], types["MISS"], types["FP"], types["MATCH"]) == (2, 2, 1, 20)
