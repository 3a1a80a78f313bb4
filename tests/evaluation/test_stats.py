"""Paired statistics: hand-worked cases, scipy's tests and bootstrap, known effects, seeds that
disagree, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from nuscmot.evaluation import report
from nuscmot.evaluation.stats import PairedData, fisher_interval, paired_comparison, sequences_needed


def counts(tracker, baseline, seeds=None):
    """IDSW data: tracker (seeds, sequences) on one draw, baseline (sequences)."""
    t = np.asarray(tracker, dtype=float).reshape(1, -1, len(baseline))
    return PairedData(t, np.asarray(baseline, dtype=float)[None], lower_is_better=True,
                      seeds=tuple(seeds or range(t.shape[1])), draws=(None,))


def test_hand_worked_case():
    """Five sequences, each one to five switches fewer: the total is -15, every sequence better;
    Wilcoxon's exact p is 2/32 (one of 32 sign patterns as extreme, both sides), the sign test's too."""
    r = paired_comparison(counts([[4, 3, 2, 1, 0]], [5, 5, 5, 5, 5]), samples=2000)
    assert r["estimate"] == -15
    assert (r["better"], r["worse"], r["ties"], r["n_sequences"]) == (5, 0, 0, 5)
    assert r["p"] == pytest.approx(2 / 32) and r["p_sign"] == pytest.approx(2 / 32)
    assert r["significant"] is False  # p 0.0625 >= 0.05: five sequences cannot settle it
    assert r["ci"][0] <= -15 <= r["ci"][1] and r["ci"][1] < 0
    assert r["per_seed"] == {"0": -15.0} and r["seeds_disagree"] is False


def test_p_values_equal_scipys():
    rng = np.random.default_rng(1)
    base = rng.poisson(6, 15)
    trk = base + rng.integers(-3, 3, 15)
    r = paired_comparison(counts([trk], base), samples=500)
    d = (trk - base)[trk != base]
    assert r["p"] == pytest.approx(sps.wilcoxon(d).pvalue)
    assert r["p_sign"] == pytest.approx(sps.binomtest(int((d > 0).sum()), len(d)).pvalue)


def test_interval_agrees_with_scipys_bootstrap():
    """One seed, one draw, a count: the interval is the percentile bootstrap of the summed differences."""
    rng = np.random.default_rng(2)
    base = rng.poisson(8, 30).astype(float)
    trk = base + rng.normal(-1, 2, 30)
    r = paired_comparison(counts([trk], base), samples=8000, seed=5)
    ref = sps.bootstrap(((trk - base),), np.sum, n_resamples=8000, method="percentile", random_state=7,
                        confidence_level=0.95).confidence_interval
    width = ref.high - ref.low
    assert r["ci"][0] == pytest.approx(ref.low, abs=0.05 * width)
    assert r["ci"][1] == pytest.approx(ref.high, abs=0.05 * width)


def test_ratio_metric_is_the_overall_value():
    """MOTA as sum(MOTA_q * GT_q) / sum(GT_q): the estimate is the difference of the overall values."""
    gt = np.array([10.0, 30.0, 60.0])
    mota_t, mota_b = np.array([0.5, 0.6, 0.7]), np.array([0.4, 0.6, 0.6])
    data = PairedData((mota_t * gt)[None, None], (mota_b * gt)[None], gt[None, None], gt[None], seeds=(0,))
    r = paired_comparison(data, samples=200)
    assert r["estimate"] == pytest.approx((mota_t @ gt - mota_b @ gt) / gt.sum())
    assert (r["better"], r["worse"], r["ties"]) == (2, 0, 1)


def test_large_effect_is_significant_and_null_is_not():
    rng = np.random.default_rng(3)
    base = rng.poisson(10, (2, 20)).astype(float)  # two draws
    big = base[:, None] - 4 + rng.normal(0, 1, (2, 3, 20))  # three seeds
    r = paired_comparison(PairedData(big, base, lower_is_better=True, seeds=(0, 1, 2), draws=(0, 1)))
    assert r["significant"] and r["p"] < 1e-4 and r["ci"][1] < 0 and r["better"] == 20
    null = base[:, None] + rng.normal(0, 2, (2, 3, 20))
    r = paired_comparison(PairedData(null, base, lower_is_better=True, seeds=(0, 1, 2), draws=(0, 1)))
    assert not r["significant"] and r["p"] > 0.05 and r["ci"][0] < 0 < r["ci"][1]
    line = " ".join(report.verdict_lines("trackssm", {"IDSW": r}, "kalman", {"meaningful": True}))
    assert "not significant at 0.05" in line and "**" not in line.split("Sequences needed")[0]


def test_seeds_that_disagree_are_reported():
    base = np.full(12, 5.0)
    trk = np.stack([base - 2, base + 2, base - 1])  # seed 0 better, seed 1 worse, seed 2 better
    r = paired_comparison(counts(trk, base, seeds=(0, 1, 2)), samples=500)
    assert r["seeds_disagree"] is True
    assert r["per_seed"] == {"0": -24.0, "1": 24.0, "2": -12.0}
    text = "\n".join(report.verdict_lines("trackssm", {"IDSW": r}, "kalman", {"meaningful": True}))
    assert "seeds disagree on IDSW: seed 0 -24, seed 1 +24, seed 2 -12" in text
    same = paired_comparison(counts(np.stack([base - 2, base - 1]), base), samples=500)
    assert same["seeds_disagree"] is False


def test_hierarchical_interval_widens_with_seed_spread():
    """Seeds that scatter widen the interval against the same mean without scatter."""
    rng = np.random.default_rng(4)
    base = rng.poisson(8, 16).astype(float)
    mean = base - 1 + rng.normal(0, 1, 16)
    scatter = np.stack([mean - 3, mean + 3, mean])
    tight = paired_comparison(counts(np.stack([mean] * 3), base), samples=3000)
    wide = paired_comparison(counts(scatter, base), samples=3000)
    assert tight["estimate"] == pytest.approx(wide["estimate"])
    assert wide["ci"][1] - wide["ci"][0] > 1.5 * (tight["ci"][1] - tight["ci"][0])


def test_deterministic_for_a_fixed_seed():
    rng = np.random.default_rng(6)
    base = rng.poisson(8, 10).astype(float)
    data = counts(np.stack([base - rng.normal(1, 2, 10), base + rng.normal(0, 2, 10)]), base)
    assert paired_comparison(data, seed=3) == paired_comparison(data, seed=3)
    assert paired_comparison(data, seed=3)["ci"] != paired_comparison(data, seed=4)["ci"]


def test_sample_size_and_fisher_interval_by_hand():
    z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)  # 1.96 + 0.84
    assert sequences_needed(1.0, 1.0, 0.05) == math.ceil(z ** 2) == 8
    assert sequences_needed(0.5, 1.0, 0.05) == math.ceil((2 * z) ** 2)
    assert sequences_needed(0.0, 1.0, 0.05) is None
    lo, hi = fisher_interval(0.5, 28, 0.95)
    h = 1.959964 / 5
    assert (lo, hi) == pytest.approx((math.tanh(math.atanh(0.5) - h), math.tanh(math.atanh(0.5) + h)))
    assert fisher_interval(0.5, 3, 0.95) == [None, None]
    base = np.arange(10.0) + 5
    r = paired_comparison(counts([base - 1 + (np.arange(10) % 2)], base), samples=200)
    sd = np.std(-1 + (np.arange(10) % 2), ddof=1)
    assert r["sample_size"]["observed"] == sequences_needed(-0.5, sd, 0.05)
    assert r["sample_size"]["tenth_of_baseline"] == sequences_needed(0.1 * base.mean(), sd, 0.05)
