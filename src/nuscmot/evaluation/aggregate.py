"""One source's runs in numbers: the per-run table, the tracker means over draws and seeds
the per-sequence analysis reads, the paired statistics per metric and per class.

Pure functions over the metrics JSONs (``docs[tracker][(draw, seed)]``) of one
:class:`~nuscmot.evaluation.runs.SourceRuns`."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.evaluation.runs import SourceRuns, paired_data
from nuscmot.evaluation.stats import paired_comparison

STAT_METRICS = ("IDSW", "MOTA", "IDF1", "HOTA")
CLASS_STAT_METRICS = ("IDSW", "MOTA", "IDF1")
RUN_COLUMNS = ["draw", "seed", "sequence", "tracker", "IDSW", "IDSW_delta", "IDSW_ratio", "MOTA", "IDF1", "HOTA",
               "FP", "FN", "Frag", "IDSW_trackeval"]
_FROM_METRICS = ["IDSW", "MOTA", "IDF1", "HOTA", "FP", "FN", "Frag", "IDSW_trackeval"]
Docs = Mapping[str, Mapping[tuple, Mapping[str, Any]]]


def _mean(values: Sequence) -> float | int | None:
    """Mean of numbers (None where any is None); an int when every value is the same int."""
    if any(v is None for v in values):
        return None
    if all(isinstance(v, int) for v in values) and len(set(values)) == 1:
        return values[0]
    return float(np.mean(values))


def run_rows(src: SourceRuns, docs: Docs, baseline: str, names: Sequence[str]) -> list[dict[str, Any]]:
    """One row per (draw, seed, sequence, tracker), OVERALL first; deltas against the baseline's
    run of the same draw (its first seed)."""
    from nuscmot.evaluation.compare import delta_ratio

    rows = []
    for d in src.draws:
        base = docs[baseline][(d, src.seeds[baseline][0])]
        for seq in ["OVERALL", *names]:
            pick = (lambda doc: doc["overall"]) if seq == "OVERALL" else (lambda doc: doc["sequences"][seq])
            for t in src.trackers:
                for s in src.seeds[t]:
                    m = pick(docs[t][(d, s)])
                    delta, ratio = delta_ratio(m["IDSW"], pick(base)["IDSW"])
                    row = {"draw": d, "seed": s, "sequence": seq, "tracker": t, "IDSW_delta": delta, "IDSW_ratio": ratio}
                    rows.append({c: row[c] if c in row else m[c] for c in RUN_COLUMNS})
    return rows


def mean_docs(src: SourceRuns, docs: Docs, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per tracker a metrics-JSON-like dict of the means over its draws and seeds (``sequences``,
    ``overall``), with each sequence's IDSW of every run (``idsw_runs``)."""
    out = {}
    for t in src.trackers:
        runs = list(docs[t].values())
        seqs = {n: {c: _mean([r["sequences"][n][c] for r in runs]) for c in _FROM_METRICS} for n in names}
        out[t] = {"tracker": t, "sequences": seqs,
                  "overall": {c: _mean([r["overall"][c] for r in runs]) for c in _FROM_METRICS},
                  "idsw_runs": {n: [r["sequences"][n]["IDSW"] for r in runs] for n in names}}
    return out


def mean_explanatory(per_draw: Sequence[Mapping[str, Mapping]], names: Sequence[str]) -> dict[str, dict]:
    """The explanatory variables of each sequence averaged over the draws (numbers only)."""
    out = {}
    for n in names:
        out[n] = {}
        for group in ("gaps", "crowding"):
            keys = [k for k, v in per_draw[0][n][group].items() if v is None or isinstance(v, (int, float))]
            out[n][group] = {k: _mean([e[n][group][k] for e in per_draw]) for k in keys}
    return out


def run_table(src: SourceRuns, docs: Docs) -> list[dict[str, Any]]:
    """Each run's overall IDSW, MOTA, IDF1 and HOTA (tracker, seed, draw order)."""
    return [{"tracker": t, "seed": s, "draw": d, **{m: docs[t][(d, s)]["overall"][m] for m in STAT_METRICS}}
            for t in src.trackers for s in src.seeds[t] for d in src.draws]


def statistics(src: SourceRuns, docs: Docs, baseline: str, names: Sequence[str], cfg) -> dict[str, dict]:
    """Per compared tracker and metric: :func:`~nuscmot.evaluation.stats.paired_comparison`."""
    return {t: {m: paired_comparison(paired_data(src, docs, t, baseline, names, m), alpha=cfg.alpha,
                                     samples=cfg.bootstrap_samples, seed=cfg.bootstrap_seed)
                for m in STAT_METRICS}
            for t in src.trackers if t != baseline}


def _class_mean(docs: Docs, tracker: str, cls: str) -> dict[str, Any]:
    return {m: _mean([doc["classes"][cls]["overall"][m] for doc in docs[tracker].values()])
            for m in (*CLASS_STAT_METRICS, "num_objects")}


def class_statistics(src: SourceRuns, docs: Docs, baseline: str, names: Sequence[str], cfg) -> dict[str, Any]:
    """Per class: each tracker's IDSW/MOTA/IDF1 (means over runs) and, where the baseline has at
    least ``cfg.min_class_idsw`` switches in the class, the paired statistics; {} when a metrics
    JSON has no per-class rows (an older ``evaluate_tracker``)."""
    if not all("classes" in doc and doc["classes"] for per in docs.values() for doc in per.values()):
        return {}
    classes = list(next(iter(docs[baseline].values()))["classes"])
    out = {}
    for c in classes:
        means = {t: _class_mean(docs, t, c) for t in src.trackers}
        enough = (means[baseline]["IDSW"] or 0) >= cfg.min_class_idsw
        part = (lambda doc, c=c: doc["classes"][c]["sequences"])
        stats = {t: {m: paired_comparison(paired_data(src, docs, t, baseline, names, m, part), alpha=cfg.alpha,
                                          samples=cfg.bootstrap_samples, seed=cfg.bootstrap_seed)
                     for m in CLASS_STAT_METRICS}
                 for t in src.trackers if t != baseline} if enough else {}
        out[c] = {"trackers": means, "statistics": stats, "enough_switches": enough}
    return out


def run_label(draw: Any, seed: Any) -> str:
    """A run's label: ``seed S``, ``draw D`` or both (``run`` for a single deterministic run)."""
    parts = ([f"seed {seed}"] if seed is not None else []) + ([f"draw {draw}"] if draw is not None else [])
    return ", ".join(parts) or "run"


def delta_runs(src: SourceRuns, docs: Docs, baseline: str, names: Sequence[str]) -> dict[str, dict[str, dict]]:
    """``[tracker][sequence][run label]``: each run's IDSW minus the baseline's on the same draw."""
    out = {}
    for t in src.trackers:
        if t == baseline:
            continue
        out[t] = {n: {} for n in names}
        for (d, s), doc in docs[t].items():
            base = docs[baseline][(d, src.seeds[baseline][0])]
            for n in names:
                out[t][n][run_label(d, s)] = doc["sequences"][n]["IDSW"] - base["sequences"][n]["IDSW"]
    return out
