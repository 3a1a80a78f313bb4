"""Run names: one per training seed of a learned motion model, one per draw of a GT source."""

from __future__ import annotations

import re

import pytest

from nuscmot.common.runs import parse_source_run, parse_tracker_run, run_regex, source_runs, tracker_runs


def test_seeded_models_run_once_per_seed_and_the_rest_once():
    from nuscmot.tracking.models import learned

    runs = tracker_runs(["kalman", "trackssm", "iou"], [0, 3], learned=learned())
    assert runs == ["kalman", "trackssm-s0", "trackssm-s3", "iou"]
    assert source_runs(["finetuned", "gt"], [1, 2], drawn=["gt"]) == ["finetuned", "gt-d1", "gt-d2"]


@pytest.mark.parametrize("run,parsed", [("kalman", ("kalman", None)), ("trackssm-s12", ("trackssm", 12))])
def test_tracker_runs_parse_back(run, parsed):
    assert parse_tracker_run(run) == parsed


@pytest.mark.parametrize("run,parsed", [("finetuned", ("finetuned", None)), ("gt-d0", ("gt", 0))])
def test_source_runs_parse_back(run, parsed):
    assert parse_source_run(run) == parsed


@pytest.mark.parametrize("parse,bad", [(parse_tracker_run, "gt-d1"), (parse_source_run, "trackssm-s1"),
                                       (parse_tracker_run, "Kalman"), (parse_tracker_run, "trackssm-s"),
                                       (parse_tracker_run, "a-b-c"), (parse_source_run, "-d1"), (parse_source_run, "")])
def test_other_names_are_refused(parse, bad):
    with pytest.raises(ValueError, match="not a run name"):
        parse(bad)


def test_the_wildcard_regex_matches_exactly_the_runs():
    regex = run_regex(["kalman", "trackssm-s0"])
    assert re.fullmatch(regex, "trackssm-s0") and not re.fullmatch(regex, "trackssm-s01")
    assert not re.fullmatch(run_regex([]), "")
