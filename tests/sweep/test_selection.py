"""The tuned cell: the objective's best only where it beats the config's own cell beyond the noise."""

from __future__ import annotations

import numpy as np

from nuscmot.sweep.block import config_cell
from nuscmot.sweep.selection import pick
from nuscmot.sweep.summary import Objective

NAMES = [f"s{i}" for i in range(12)]


def row(cell, idsw_per_seq, mota=0.7):
    seqs = {n: {"IDSW": int(v), "MOTA": mota, "num_objects": 100} for n, v in zip(NAMES, idsw_per_seq)}
    return {"tracker": "kalman", "cell": cell, "IDSW": int(sum(idsw_per_seq)), "MOTA": mota, "_sequences": seqs}


def test_a_clear_gain_picks_the_best_cell():
    config = row("a", [6] * 12)
    best = row("b", [3] * 11 + [4])
    got = pick(Objective(), [config, best], "a")
    assert (got["chosen"], got["cell"], got["best_cell"], got["config_cell"]) == ("best", "b", "b", "a")
    assert got["beats_config"]["beats"] and got["beats_config"]["estimate"] == -35
    assert got["beats_config"]["p"] < 0.05 and got["beats_config"]["ci"][1] < 0


def test_noise_keeps_the_config_cell():
    rng = np.random.default_rng(0)
    base = rng.integers(3, 9, 12)
    noise = base + np.array([-1, 1, -1, 0, 1, -1, -1, 0, 1, -1, 0, 0])  # 2 fewer in all
    got = pick(Objective(), [row("a", base), row("b", noise)], "a")
    assert got["best_cell"] == "b" and got["chosen"] == "config" and got["cell"] == "a"
    assert got["row"]["cell"] == "a" and got["beats_config"]["beats"] is False
    assert "does not beat the config cell beyond the noise" in got["reason"]
    untested = pick(Objective(require_significance=False), [row("a", base), row("b", noise)], "a")
    assert untested["chosen"] == "best" and untested["cell"] == "b"


def test_config_cell_best_or_absent():
    rows = [row("a", [5] * 12), row("b", [2] * 12)]
    assert pick(Objective(), rows, "b")["chosen"] == "config"  # the best is the config's own cell
    absent = pick(Objective(), [row("a", [5] * 12), row("b", [5] * 11 + [4])], None)
    assert absent["config_cell"] == "a" and absent["config_in_grid"] is False and absent["chosen"] == "config"


def test_block_finds_the_config_cell():
    cells = [{"name": f"m{v}", "values": {"match_thresh": v, "kalman__std_weight_velocity": 1 / 160}}
             for v in (0.7, 0.8)]
    assert config_cell("kalman", {"cfg": {"match_thresh": 0.8}, "motion": {}, "cells": cells}) == "m0.8"
    assert config_cell("kalman", {"cfg": {"match_thresh": 0.9}, "motion": {}, "cells": cells}) is None
    assert config_cell("kalman", {"cfg": {"match_thresh": 0.8}, "motion": {"std_weight_velocity": 0.01},
                                  "cells": cells}) is None


def test_compare_md_states_the_selection():
    from nuscmot.evaluation.markdown import selection_text

    kept = pick(Objective(), [row("a", [6, 5] * 6), row("b", [6, 4] + [6, 5] * 5)], "a")
    text = selection_text({k: kept[k] for k in ("chosen", "best_cell", "config_cell", "beats_config", "reason")})
    assert "did not beat the config cell beyond the noise" in text and "config cell kept" in text
