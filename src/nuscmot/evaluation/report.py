"""The statistics pieces of ``compare_idsw.md`` (:mod:`nuscmot.evaluation.markdown`): the verdict
in words that match the evidence (effect, interval, per-sequence count, p, significance at
``compare.alpha``, bold only where significant; the seeds where they disagree), the sequences a
verdict would need, the paired statistics, every run's figures and the per-class table."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from nuscmot.evaluation.aggregate import STAT_METRICS
from nuscmot.evaluation.stats import POWER

SIGNIFICANCE_NOTE = ("significant: the Wilcoxon signed-rank p over sequences (per-sequence differences averaged over "
                     "seeds and draws) is below alpha and the hierarchical paired bootstrap interval (sequences, "
                     "seeds and draws resampled) excludes 0")


def fmt(value: Any, kind: str = "") -> str:
    """A table cell: counts as integers where whole, fractions to 3 places, p to 2 figures."""
    if value is None:
        return "n/a"
    if kind == "p":
        return f"{value:.2g}" if value >= 0.001 else f"{value:.1e}"
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if kind in ("count", "delta"):
        whole = float(value).is_integer()
        text = f"{int(round(value))}" if whole else f"{value:.1f}"
        return ("+" if kind == "delta" and value > 0 else "") + text
    if kind == "ratio":
        return f"{value:.2f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def table(header: list[str], rows: list[list[str]]) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=header, tablefmt="github", disable_numparse=True)


def _effect(metric: str, st: Mapping[str, Any], baseline: str) -> str:
    est = st["estimate"]
    if metric != "IDSW":
        return f"{metric} {fmt(est, 'delta') if est is None else f'{est:+.3f}'}"
    if est is None or est == 0:
        return f"as many switches as {baseline}"
    return f"{fmt(abs(est), 'count')} {'fewer' if est < 0 else 'more'} switches than {baseline}"


def evidence(metric: str, st: Mapping[str, Any]) -> str:
    """``(95% CI a to b; k of n sequences better, m worse; p = x): [not] significant at alpha``."""
    kind = "delta" if metric == "IDSW" else ""
    lo, hi = st["ci"]
    ci = "n/a" if lo is None else (f"{fmt(lo, kind)} to {fmt(hi, kind)}" if kind else f"{lo:+.3f} to {hi:+.3f}")
    sig = "significant" if st["significant"] else "not significant"
    return (f"({st['level']:.0%} CI {ci}; {st['better']} of {st['n_sequences']} sequences better, {st['worse']} "
            f"worse; p = {fmt(st['p'], 'p')}): {sig} at {st['alpha']:g}")


def verdict_lines(tracker: str, stats: Mapping[str, Mapping], baseline: str, valid: Mapping[str, Any]) -> list[str]:
    """The verdict of one tracker: IDSW first, then MOTA/IDF1/HOTA; bold only where significant;
    refused over degenerate input."""
    if not valid["meaningful"]:
        return [f"**Verdict ({tracker}): not meaningful**: {valid['reason']}.", ""]
    out = []
    order = [m for m in STAT_METRICS if m in stats] + [m for m in stats if m not in STAT_METRICS]
    for metric, st in ((m, stats[m]) for m in order):  # IDSW first, whatever order a JSON kept
        line = f"{_effect(metric, st, baseline)} {evidence(metric, st)}"
        line = f"**{line}**" if st["significant"] else line
        out.append(f"Verdict ({tracker}): {line}." if metric == "IDSW" else f"- {line}")
    disagree = [m for m in order if stats[m]["seeds_disagree"]]
    for m in disagree:
        seeds = ", ".join(f"seed {k} {v:+.3g}" for k, v in stats[m]["per_seed"].items())
        out.append(f"- The seeds disagree on {m}: {seeds}.")
    return out + [""] + sample_size_lines(tracker, stats["IDSW"], baseline)


def sample_size_lines(tracker: str, st: Mapping[str, Any], baseline: str) -> list[str]:
    """How many sequences would settle the IDSW verdict (paired z-test, normal approximation)."""
    n = st["sample_size"]
    if n.get("sd") is None:
        return []
    obs = f"{n['observed']}" if n["observed"] else "none (no difference observed)"
    tenth = f"{n['tenth_of_baseline']}" if n["tenth_of_baseline"] else "n/a"
    return [f"Sequences needed for IDSW ({tracker}) at {POWER:.0%} power, two-sided {st['alpha']:g} (paired z-test, "
            f"normal approximation, per-sequence SD {n['sd']:.2f}): {obs} for the observed "
            f"{n['effect_per_sequence']:+.2f} switches per sequence; {tenth} for 10% of {baseline}'s "
            f"({n['tenth_per_sequence']:.2f} per sequence). This comparison has {st['n_sequences']}.", ""]


def floor_lines(result: Mapping[str, Any]) -> list[str]:
    """What each model changes of the motion-free floor's switches (``result["floor"]``, e.g.
    ``iou``; nothing when it was not tracked or has none): descriptive, the paired statistics
    against the baseline say how sure."""
    floor = result.get("floor")
    base = result["overall"][floor]["IDSW"] if floor else None
    if not base:
        return []
    parts = []
    for t in (t for t in result["trackers"] if t != floor):
        idsw = result["overall"][t]["IDSW"]
        change = 1 - idsw / base
        verb = f"removes {change:.0%}" if change >= 0 else f"adds {-change:.0%}"
        parts.append(f"{t} {verb} ({fmt(idsw, 'count')} vs {fmt(base, 'count')})")
    return [f"What motion adds: against the floor ({floor}, no motion model: a track keeps its last box, "
            f"{fmt(base, 'count')} switches), {'; '.join(parts)}. The paired statistics against "
            f"{result['baseline']} say how sure each difference is.", ""]


def per_seed_cell(per_seed: Mapping[str, Any]) -> str:
    """``0: -3, 1: -2`` for a learned model's seeds; empty for a model without seeds (one run,
    keyed None)."""
    seeded = {k: v for k, v in per_seed.items() if k not in (None, "None")}
    return ", ".join(f"{k}: {v:+.3g}" for k, v in seeded.items())


def stats_table(stats: Mapping[str, Mapping[str, Mapping]]) -> str:
    rows = []
    for t, per in stats.items():
        for m, st in per.items():
            kind = "delta" if m == "IDSW" else ""
            lo, hi = st["ci"]
            rows.append([t, m, fmt(st["estimate"], kind) if kind else f"{st['estimate']:+.3f}",
                         "n/a" if lo is None else f"{fmt(lo, kind)} to {fmt(hi, kind)}" if kind else f"{lo:+.3f} to {hi:+.3f}",
                         f"{st['better']}/{st['worse']}/{st['ties']}", fmt(st["p"], "p"), fmt(st["p_sign"], "p"),
                         "**yes**" if st["significant"] else "no",
                         per_seed_cell(st["per_seed"])])
    return table(["tracker", "metric", "Δ", "CI", "better/worse/tied", "p (Wilcoxon)", "p (sign)", "significant",
                  "per seed"], rows)


def runs_table(runs: Sequence[Mapping[str, Any]]) -> str:
    return table(["tracker", "seed", "draw", "IDSW", "MOTA", "IDF1", "HOTA"],
                 [[r["tracker"], fmt(r["seed"]), fmt(r["draw"]), fmt(r["IDSW"], "count"), fmt(r["MOTA"]),
                   fmt(r["IDF1"]), fmt(r["HOTA"])] for r in runs])


def _class_cell(st: Mapping[str, Any], metric: str) -> str:
    kind = "delta" if metric == "IDSW" else ""
    lo, hi = st["ci"]
    num = (lambda v: fmt(v, kind)) if kind else (lambda v: "n/a" if v is None else f"{v:+.3f}")
    text = f"{num(st['estimate'])} [{num(lo)}, {num(hi)}] p {fmt(st['p'], 'p')}"
    return f"**{text}**" if st["significant"] else text


def class_section(classes: Mapping[str, Any], baseline: str, min_idsw: int, level: str) -> list[str]:
    if not classes:
        return []
    rows = []
    for c, entry in classes.items():
        for t, m in entry["trackers"].items():
            st = entry["statistics"].get(t, {})
            rows.append([c, t, fmt(m["num_objects"], "count"), fmt(m["IDSW"], "count"), fmt(m["MOTA"]), fmt(m["IDF1"])]
                        + [_class_cell(st[k], k) if st else "" for k in ("IDSW", "MOTA", "IDF1")])
    note = (f"Each class on its own boxes (class-aware); paired intervals where {baseline} has at least {min_idsw} "
            "switches in the class (means over draws and seeds).")
    return [f"{level} Per class", "", note, "",
            table(["class", "tracker", "GT boxes", "IDSW", "MOTA", "IDF1", "Δ IDSW [CI] p", "Δ MOTA [CI] p",
                   "Δ IDF1 [CI] p"], rows), ""]
