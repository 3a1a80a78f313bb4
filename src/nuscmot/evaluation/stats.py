"""Paired statistics of a tracker against the baseline over sequences, seeds and draws.

Data of one metric: per run and sequence a numerator and a denominator, so that the overall
value of a run is ``sum(num) / sum(den)`` over its sequences (MOTA: ``MOTA_q * GT_q`` over
``GT_q``, exact; IDF1: ``IDF1_q * (GT_q + predictions_q)`` over ``GT_q + predictions_q``, exact;
HOTA: weighted by GT boxes, an approximation of TrackEval's combined HOTA) or, for a count
(IDSW), the plain sum over sequences (``den`` None). The tracker's runs are a grid
``(draws, seeds, sequences)``; the baseline's ``(draws, sequences)`` (a deterministic tracker:
one run per degradation draw). The effect is the tracker's overall value minus the baseline's
on the same draw, averaged over draws and seeds.

- **Interval**: a hierarchical paired bootstrap (percentiles) that resamples sequences and,
  independently, seeds and draws where there are several; seeded, vectorised with numpy.
- **p**: the Wilcoxon signed-rank test (``scipy.stats.wilcoxon``, zero differences dropped)
  over the per-sequence differences averaged over seeds and draws; the exact sign test
  (``scipy.stats.binomtest``) on the same differences is reported beside it.
- **Significant**: p < alpha and the interval excludes 0 (both must agree).
- **Sequences needed**: a paired z-test (normal approximation) with the observed spread of the
  per-sequence differences, two-sided at alpha, power 0.8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

POWER = 0.8


@dataclass(frozen=True)
class PairedData:
    """One metric's numerators/denominators: tracker ``(draws, seeds, sequences)``, baseline
    ``(draws, sequences)``; ``den_*`` None for a count summed over sequences. ``lower_is_better``:
    IDSW; ``seeds``/``draws``: labels of the tracker's seed and draw axes."""

    num_t: np.ndarray
    num_b: np.ndarray
    den_t: np.ndarray | None = None
    den_b: np.ndarray | None = None
    lower_is_better: bool = False
    seeds: tuple = (None,)
    draws: tuple = (None,)


def _ratio(num: np.ndarray, den: np.ndarray | None) -> np.ndarray:
    if den is None:
        return num
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_effect(data: PairedData, cq: np.ndarray, cd: np.ndarray, cs: np.ndarray) -> np.ndarray:
    """The effect under resampling weights (counts) of sequences ``cq (B, Q)``, draws ``cd (B, D)``
    and seeds ``cs (B, S)``: one value per resample ``(B,)``."""
    nt = np.einsum("bq,dsq->bds", cq, data.num_t)
    nb = np.einsum("bq,dq->bd", cq, data.num_b)
    dt = None if data.den_t is None else np.einsum("bq,dsq->bds", cq, data.den_t)
    db = None if data.den_b is None else np.einsum("bq,dq->bd", cq, data.den_b)
    rt, rb = _ratio(nt, dt), _ratio(nb, db)
    n_d, n_s = cd.shape[1], cs.shape[1]
    tracker = np.einsum("bd,bs,bds->b", cd, cs, rt) / (n_d * n_s)
    return tracker - np.einsum("bd,bd->b", cd, rb) / n_d


def _counts(rng: np.random.Generator, samples: int, n: int) -> np.ndarray:
    """Bootstrap counts ``(samples, n)`` of n items drawn with replacement (all ones when n == 1)."""
    if n == 1:
        return np.ones((samples, 1))
    idx = rng.integers(0, n, size=(samples, n)) + n * np.arange(samples)[:, None]
    return np.bincount(idx.ravel(), minlength=samples * n).reshape(samples, n).astype(float)


def bootstrap_interval(data: PairedData, level: float, samples: int, seed: int) -> tuple[float | None, float | None]:
    """Percentile interval of the hierarchical paired bootstrap (sequences, seeds, draws)."""
    d, s, q = data.num_t.shape
    rng = np.random.default_rng(seed)
    effects = weighted_effect(data, _counts(rng, samples, q), _counts(rng, samples, d), _counts(rng, samples, s))
    effects = effects[np.isfinite(effects)]
    if not len(effects):
        return None, None
    lo, hi = np.percentile(effects, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def sequence_differences(data: PairedData) -> np.ndarray:
    """Per-sequence differences (tracker - baseline of the same draw), averaged over seeds and
    draws; NaN where a sequence has no denominator (no GT)."""
    rt = _ratio(data.num_t, data.den_t)
    rb = _ratio(data.num_b, data.den_b)
    return (rt - rb[:, None, :]).mean(axis=(0, 1))


def signed_rank(diffs: np.ndarray) -> dict[str, Any]:
    """Wilcoxon signed-rank p (zeros dropped) and the exact sign test's p; None without a non-zero
    difference."""
    from scipy import stats

    nonzero = diffs[diffs != 0]
    if not len(nonzero):
        return {"p": None, "p_sign": None}
    p = float(stats.wilcoxon(nonzero, zero_method="wilcox").pvalue)
    p_sign = float(stats.binomtest(int((nonzero > 0).sum()), len(nonzero), 0.5).pvalue)
    return {"p": p, "p_sign": p_sign}


def sequences_needed(effect: float, sd: float, alpha: float, power: float = POWER) -> int | None:
    """Sequences a paired z-test needs to find a per-sequence mean difference ``effect`` with
    per-sequence standard deviation ``sd`` (two-sided at ``alpha``, ``power``); None for no effect."""
    from scipy.stats import norm

    if not effect or not math.isfinite(effect):
        return None
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return max(2, math.ceil((z * sd / abs(effect)) ** 2))


def sample_size(data: PairedData, diffs: np.ndarray, alpha: float) -> dict[str, Any]:
    """Sequences needed at 80% power for the observed per-sequence effect and for 10% of the
    baseline's per-sequence mean."""
    diffs = diffs[np.isfinite(diffs)]
    base = _ratio(data.num_b, data.den_b).mean(axis=0)
    base = base[np.isfinite(base)]
    if len(diffs) < 2:
        return {"observed": None, "tenth_of_baseline": None, "sd": None, "method": None}
    sd = float(np.std(diffs, ddof=1))
    tenth = 0.1 * float(base.mean()) if len(base) else None
    return {"observed": sequences_needed(float(diffs.mean()), sd, alpha),
            "tenth_of_baseline": sequences_needed(tenth, sd, alpha) if tenth is not None else None,
            "effect_per_sequence": float(diffs.mean()), "tenth_per_sequence": tenth, "sd": sd,
            "power": POWER, "method": "paired z-test (normal approximation), observed per-sequence spread"}


def per_axis(data: PairedData) -> dict[str, dict[str, float]]:
    """The effect of each seed (averaged over draws) and of each draw (averaged over seeds)."""
    d, s, q = data.num_t.shape
    ones = np.ones((1, q))
    out: dict[str, dict[str, float]] = {"per_seed": {}, "per_draw": {}}
    for axis, n, labels, key in ((2, s, data.seeds, "per_seed"), (1, d, data.draws, "per_draw")):
        for i, label in enumerate(labels):
            pick = np.zeros((1, n))
            pick[0, i] = n
            cd, cs = (np.ones((1, d)), pick) if axis == 2 else (pick, np.ones((1, s)))
            out[key][str(label)] = float(weighted_effect(data, ones, cd, cs)[0])
    return out


def paired_comparison(data: PairedData, *, alpha: float = 0.05, samples: int = 4000, seed: int = 0) -> dict[str, Any]:
    """Effect, (1 - alpha) interval, per-sequence counts, p, significance, per-seed/per-draw
    effects and whether the seeds disagree in sign, and the sequences needed (JSON-ready)."""
    q = data.num_t.shape[2]
    effect = float(weighted_effect(data, np.ones((1, q)), np.ones((1, data.num_t.shape[0])),
                                   np.ones((1, data.num_t.shape[1])))[0])
    lo, hi = bootstrap_interval(data, 1 - alpha, samples, seed)
    diffs = sequence_differences(data)
    finite = diffs[np.isfinite(diffs)]
    better = int((finite < 0).sum() if data.lower_is_better else (finite > 0).sum())
    worse = int((finite > 0).sum() if data.lower_is_better else (finite < 0).sum())
    tests = signed_rank(finite)
    excludes_zero = lo is not None and (lo > 0 or hi < 0)
    axes = per_axis(data)
    signs = {np.sign(v) for v in axes["per_seed"].values() if v != 0}
    return {
        "estimate": effect if math.isfinite(effect) else None, "ci": [lo, hi], "level": 1 - alpha,
        **tests, "test": "Wilcoxon signed-rank over sequences (sign test: p_sign)", "alpha": alpha,
        "significant": bool(tests["p"] is not None and tests["p"] < alpha and excludes_zero),
        "n_sequences": int(len(finite)), "better": better, "worse": worse, "ties": int(len(finite)) - better - worse,
        **axes, "seeds_disagree": len(signs) > 1,
        "sample_size": sample_size(data, diffs, alpha),
        "bootstrap": {"samples": samples, "seed": seed, "resamples": "sequences, seeds and draws (hierarchical)"},
    }


def fisher_interval(r: float | None, n: int, level: float, spearman: bool = False) -> list[float | None]:
    """Fisher-z interval of a correlation over n sequences (Spearman: Fieller's 1.06 variance)."""
    from scipy.stats import norm

    if r is None or n < 4:
        return [None, None]
    z = math.atanh(min(max(r, -0.999999), 0.999999))
    se = math.sqrt((1.06 if spearman else 1.0) / (n - 3))
    h = norm.ppf(0.5 + level / 2) * se
    return [math.tanh(z - h), math.tanh(z + h)]
