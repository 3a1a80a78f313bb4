"""Tracking side of ``finetune_effect`` (:mod:`.finetune_effect`): IDSW, MOTA and IDF1 of every
tracker on each source (mean over seeds, and per seed), their paired change between the sources,
the TrackSSM-minus-Kalman IDSW difference ("the paradox") per source and its change, and the
recipe's claims marked against the measured relative changes (:func:`claim_mark`)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.evaluation.compare import CompareConfig
from nuscmot.evaluation.finetune_config import FinetuneEffectConfig
from nuscmot.evaluation.finetune_detection import paired_change
from nuscmot.evaluation.metrics import EvaluationConfig
from nuscmot.evaluation.runs import SourceRuns, paired_data
from nuscmot.evaluation.stats import PairedData, paired_comparison
from nuscmot.evaluation.verdict import load_docs

Docs = dict[str, dict[tuple, dict]]  # tracker -> (draw, seed) -> metrics JSON


def run_summary(src: SourceRuns, docs: Docs) -> dict[str, Any]:
    """Per tracker: overall IDSW/MOTA/IDF1, the mean over its seeds and each seed's."""
    out = {}
    for t in src.trackers:
        per_seed = {str(seed): {m: docs[t][(None, seed)]["overall"][m] for m in ("IDSW", "MOTA", "IDF1")}
                    for seed in src.seeds[t]}
        mean = {m: float(np.mean([v[m] for v in per_seed.values() if v[m] is not None] or [np.nan]))
                for m in ("IDSW", "MOTA", "IDF1")}
        out[t] = {"mean": mean, "per_seed": per_seed, "seeds": src.seeds[t]}
    return out


def source_pair(sources: Mapping[str, SourceRuns], tracker: str) -> SourceRuns:
    """The two sources' runs of one tracker as one grid whose 'trackers' are the roles."""
    runs = {role: {(None, s): sources[role].runs[tracker][(None, s)] for s in sources[role].seeds[tracker]}
            for role in ("finetuned", "baseline")}
    return SourceRuns("finetune", ["finetuned", "baseline"], [None],
                      {role: sources[role].seeds[tracker] for role in runs}, runs)


def tracker_changes(sources: Mapping[str, SourceRuns], docs: Mapping[str, Docs], tracker: str,
                    names: Sequence[str], ccfg: CompareConfig) -> dict[str, Any]:
    """Fine-tuned minus baseline of one tracker: IDSW (absolute and relative), MOTA, IDF1."""
    pair = source_pair(sources, tracker)
    pair_docs = {role: docs[role][tracker] for role in ("finetuned", "baseline")}
    out = {}
    for metric in ("IDSW", "MOTA", "IDF1"):
        pd = paired_data(pair, pair_docs, "finetuned", "baseline", names, metric)
        if metric == "IDSW":
            out[metric] = paired_change(pd.num_t[0], pd.num_b[0], None, True, ccfg)
        else:
            out[metric] = {"absolute": paired_comparison(pd, alpha=ccfg.alpha, samples=ccfg.bootstrap_samples,
                                                         seed=ccfg.bootstrap_seed)}
    return out


def paradox(sources: Mapping[str, SourceRuns], docs: Mapping[str, Docs], tracker: str, reference: str,
            names: Sequence[str], ccfg: CompareConfig) -> dict[str, Any] | None:
    """``tracker``'s IDSW minus ``reference``'s on each source (paired over sequences), and the
    change of that difference from the baseline source to the fine-tuned one."""
    if any(t not in src.trackers for src in sources.values() for t in (tracker, reference)):
        return None
    kw = dict(alpha=ccfg.alpha, samples=ccfg.bootstrap_samples, seed=ccfg.bootstrap_seed)
    per_source, diffs = {}, {}
    for role, src in sources.items():
        pd = paired_data(src, docs[role], tracker, reference, names, "IDSW")
        per_source[role] = paired_comparison(pd, **kw)
        diffs[role] = pd.num_t[0] - pd.num_b  # (seeds, sequences)
    change = paired_comparison(PairedData(diffs["finetuned"][None], diffs["baseline"].mean(axis=0)[None],
                                          lower_is_better=True), **kw)
    return {"tracker": tracker, "reference": reference, "per_source": per_source, "change": change}


def tracking_section(sources: Mapping[str, SourceRuns], names: Sequence[str], cfg: FinetuneEffectConfig,
                     ccfg: CompareConfig, ecfg: EvaluationConfig) -> dict[str, Any]:
    """Every tracker both sources ran: summaries, changes, the paradox."""
    docs = {role: load_docs(src, list(names), ecfg) for role, src in sources.items()}
    common = [t for t in sources["baseline"].trackers if t in sources["finetuned"].trackers]
    return {
        "trackers": common,
        "summary": {role: run_summary(src, docs[role]) for role, src in sources.items()},
        "changes": {t: tracker_changes(sources, docs, t, names, ccfg) for t in common},
        "paradox": paradox(sources, docs, cfg.tracker, ccfg.baseline, names, ccfg),
        "runs": {role: {t: {str(s): str(r.metrics) for (_, s), r in src.runs[t].items()} for t in src.trackers}
                 for role, src in sources.items()},
    }


def claim_mark(change: Mapping[str, Any] | None, direction: int, expected: Sequence[float]) -> dict[str, Any]:
    """One claim against its measured change. ``magnitude`` = ``direction`` x the relative change
    (positive: the claimed direction). ``not significant``: the absolute paired change is not
    significant at alpha (Wilcoxon p < alpha and the interval excluding 0); else ``met`` when the
    magnitude reaches the expected range's low end (inside the range or beyond it), ``not met``
    when it falls short of it or goes the other way."""
    if change is None:
        return {"mark": "n/a", "reason": "not measured (no such runs)", "expected": list(expected)}
    rel = change["relative"]
    est, (lo, hi) = rel["estimate"], rel["ci"]
    mag = None if est is None else direction * est
    mag_ci = [None, None] if lo is None else sorted([direction * lo, direction * hi])
    if not change["absolute"]["significant"]:
        mark = "not significant"
    elif mag is not None and mag >= expected[0]:
        mark = "met"
    else:
        mark = "not met"
    where = None if mag is None else ("below" if mag < expected[0] else "inside" if mag <= expected[1] else "beyond")
    return {"mark": mark, "expected": list(expected), "measured": est, "ci": [lo, hi], "magnitude": mag,
            "magnitude_ci": mag_ci, "versus_expected": where, "p": change["absolute"]["p"],
            "significant": change["absolute"]["significant"]}


def claims(cfg: FinetuneEffectConfig, detection: Mapping[str, Any], tracking: Mapping[str, Any]) -> list[dict]:
    """The recipe's three claims, each marked (:func:`claim_mark`)."""
    idsw = tracking["changes"].get(cfg.tracker, {}).get("IDSW")
    rows = [
        ("gap_frames", "detection-gap frames", -1, cfg.expected_gap_reduction, detection["gap_frames"]),
        ("crowded_recall", "recall in crowded frames", +1, cfg.expected_crowded_recall_gain,
         detection["crowded_recall"]),
        (f"{cfg.tracker}_idsw", f"{cfg.tracker} IDSW", -1, cfg.expected_trackssm_idsw_reduction, idsw),
    ]
    return [{"claim": key, "label": label, "direction": "reduction" if d < 0 else "gain",
             **claim_mark(change, d, expected)} for key, label, d, expected, change in rows]
