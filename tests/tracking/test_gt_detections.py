"""GT-derived detections: determinism, degradation rates, bursts, false positives."""

from __future__ import annotations

import numpy as np
import pytest

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.tracking.gt_detections import DegradeConfig, degrade, drop_mask, sequence_rng
from support.simulate import simulate_scene

IMG = (800, 450)


@pytest.fixture(scope="module")
def gt():
    return simulate_scene(np.random.default_rng(0), 150, 30, respawn=True)


def test_same_seed_same_detections(gt):
    cfg = DegradeConfig()
    a = degrade(gt, cfg, sequence_rng(0, "scene-0001"), img_size=IMG)
    b = degrade(gt, cfg, sequence_rng(0, "scene-0001"), img_size=IMG)
    c = degrade(gt, cfg, sequence_rng(1, "scene-0001"), img_size=IMG)
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
    assert a.shape[1] == 10 and (a[:, 1] == -1).all() and (a[:, 8:] == -1).all()


def test_no_degradation_reproduces_gt(gt):
    cfg = DegradeConfig(drop_rate=0.0, jitter=0.0, false_positives_per_frame=0.0, score_low=0.4)
    d = degrade(gt, cfg, np.random.default_rng(0), img_size=IMG)
    order = np.lexsort((gt[:, 3], gt[:, 2], gt[:, 0]))
    np.testing.assert_allclose(d[:, [0, 2, 3, 4, 5, 7]], gt[order][:, [0, 2, 3, 4, 5, 7]])
    assert d[:, 6].min() >= 0.4 and d[:, 6].max() <= 1.0


@pytest.mark.parametrize("mode", ["independent", "burst"])
def test_drop_rate_is_respected(gt, mode):
    order = np.lexsort((gt[:, 0], gt[:, 1]))
    dropped = drop_mask(gt[order, 1], DegradeConfig(drop_rate=0.2, drop_mode=mode), np.random.default_rng(5))
    assert dropped.mean() == pytest.approx(0.2, abs=0.03)


def test_bursts_drop_runs_of_two_or_more(gt):
    rows = gt[np.lexsort((gt[:, 0], gt[:, 1]))]
    tid = rows[:, 1]
    dropped = drop_mask(tid, DegradeConfig(drop_rate=0.2, drop_mode="burst"), np.random.default_rng(1))
    runs, i = [], 0
    while i < len(tid):
        if dropped[i]:
            j = i
            while j < len(tid) and dropped[j] and tid[j] == tid[i]:
                j += 1
            at_end = j == len(tid) or tid[j] != tid[i]
            runs.append((j - i, at_end))
            i = j
        else:
            i += 1
    assert runs and all(n >= 2 for n, at_end in runs if not at_end)


def test_false_positives_and_jitter(gt):
    cfg = DegradeConfig(drop_rate=0.0, jitter=0.1, false_positives_per_frame=2.0)
    d = degrade(gt, cfg, np.random.default_rng(0), img_size=IMG, n_frames=150)
    assert len(d) - len(gt) == pytest.approx(300, rel=0.2)
    assert (d[:, 2] >= 0).all() and (d[:, 2] + d[:, 4] <= IMG[0] + 1e-9).all()
    assert (d[:, 3] >= 0).all() and (d[:, 3] + d[:, 5] <= IMG[1] + 1e-9).all()
    assert set(np.unique(d[:, 7])) <= set(np.unique(gt[:, 7]))


def test_empty_gt_and_ignored_rows():
    cfg = DegradeConfig(false_positives_per_frame=0.0)
    assert degrade(np.zeros((0, 9)), cfg, np.random.default_rng(0), img_size=IMG).shape == (0, 10)
    ignored = np.array([[1, 1, 10, 10, 20, 20, 0, 1, 4]], dtype=float)
    assert len(degrade(ignored, cfg, np.random.default_rng(0), img_size=IMG)) == 0


def test_config_validation():
    with pytest.raises(InputError, match="drop_mode"):
        DegradeConfig(drop_mode="sometimes")
    with pytest.raises(InputError, match="unknown key"):
        from_dict(DegradeConfig, {"drop_rat": 0.1}, where="gt_detections")
