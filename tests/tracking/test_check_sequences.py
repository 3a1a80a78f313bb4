"""Every sequence is checked (seqinfo.ini, detections, a motion model from the factory) before any
is tracked, in ``run_tracker`` and in the sweep block; the error names every sequence that fails.

The model is a real (untrained) TrackSSM checkpoint, trained on 800x450 at 2 Hz."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nuscmot.common.errors import InputError
from nuscmot.common.mot import SeqInfo, write_mot, write_seqinfo, write_seqmap
from nuscmot.tracking.run import TrackingPaths, run_tracker
from nuscmot.tracking.scores import ScoreTransform

NAMES = ["a", "b", "c", "d"]


@pytest.fixture()
def case(tmp_path):
    from nuscmot.tracking.trackssm.checkpoint import TrainedOn, save_checkpoint
    from nuscmot.tracking.trackssm.model import ModelConfig, TrackSSM

    model = tmp_path / "model.pt"
    save_checkpoint(model, TrackSSM(ModelConfig(history=4, d_model=16, encoder_layers=1, decoder_layers=2, d_state=4,
                                                expand=1)), TrainedOn(2.0, ((800, 450),)))
    for name in NAMES:
        write_seqinfo(tmp_path / "mot" / name / "seqinfo.ini", SeqInfo(name=name, length=4, width=800, height=450))
        dets = [[f, -1, 100 + 5 * f, 100, 40, 40, 0.9, 1, -1, -1] for f in range(1, 5)]
        write_mot(tmp_path / "dets" / f"{name}.txt", np.asarray(dets, dtype=float), "det")
    write_seqmap(tmp_path / "seqmap.txt", NAMES)
    return tmp_path, model


def resize(root, name, width, height):
    write_seqinfo(root / "mot" / name / "seqinfo.ini", SeqInfo(name=name, length=4, width=width, height=height))


def track(root, model, out="out"):
    paths = TrackingPaths(dets_dir=root / "dets", mot_dir=root / "mot", seqmap=root / "seqmap.txt",
                          out_dir=root / out, model=str(model))
    used = {"association": {}, "motion": {"jit": False, "device": "cpu"}, "origin": "config"}
    run_tracker("trackssm", "detector", used, ScoreTransform(), paths)


def test_the_third_of_four_refused_before_any_is_tracked(case):
    root, model = case
    resize(root, "c", 1242, 375)
    with pytest.raises(InputError) as err:
        track(root, model)
    assert str(err.value).startswith(f"{root / 'mot' / 'c' / 'seqinfo.ini'}: image size 1242x375 but the TrackSSM")
    assert not (root / "out").exists()
    resize(root, "c", 804, 452)  # within size_tolerance (1%): tracked
    track(root, model)
    assert sorted(p.stem for p in (root / "out").glob("*.txt")) == NAMES


def test_every_failing_sequence_is_named_in_one_error(case):
    root, model = case
    resize(root, "c", 1242, 375)
    (root / "dets" / "d.txt").unlink()
    with pytest.raises(InputError) as err:
        track(root, model)
    msg = str(err.value)
    assert msg.startswith(f"{root / 'seqmap.txt'}: 2 of 4 sequences cannot be tracked: c ({root / 'mot' / 'c'}")
    assert f"; d ({root / 'dets' / 'd.txt'}: missing detection file for sequence d" in msg
    assert "\n" not in msg and not (root / "out").exists()


def test_the_sweep_block_checks_every_sequence_with_every_cell_first(case):
    from nuscmot.sweep.block import run_block

    root, model = case
    resize(root, "c", 1242, 375)
    resize(root, "d", 1600, 900)
    params = {"motion": {"jit": False, "device": "cpu"}, "evaluation": {},
              "cells": [{"name": "h1", "values": {"trackssm__rollout_horizon": 1}},
                        {"name": "h2", "values": {"trackssm__rollout_horizon": 2}}]}
    params = json.loads(json.dumps(params))
    with pytest.raises(InputError, match=r"seqmap\.txt: 2 of 4 sequences cannot be tracked: c \(.*1242x375.*\); d \(.*1600x900"):
        run_block("trackssm", params, str(model), NAMES, root / "mot", root / "dets", root / "seqmap.txt")
    params["cells"][1]["values"]["trackssm__allow_size_mismatch"] = True  # the first cell still refuses
    with pytest.raises(InputError, match=r"2 of 4 sequences cannot be tracked"):
        run_block("trackssm", params, str(model), NAMES, root / "mot", root / "dets", root / "seqmap.txt")
