"""``compare_idsw.md``: one section per detection source (:func:`markdown_sources`), built from
the source's analysis (:func:`nuscmot.evaluation.verdict.compare_source`); the verdict's
statistics pieces are :mod:`nuscmot.evaluation.report`'s."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from nuscmot.evaluation.compare import CORRELATION_INTERVAL, SHOWN_ASSOCIATION, SHOWN_MOTION, SOURCES
from nuscmot.evaluation.metrics import IDSW_CONVENTION
from nuscmot.evaluation.report import (SIGNIFICANCE_NOTE, class_section, floor_lines, fmt, runs_table, stats_table,
                                       table, verdict_lines)
from nuscmot.evaluation.runs import WEIGHTING_NOTE


def markdown_header(trackers: Sequence[str], baseline: str, names: Sequence[str], *, iou_threshold: float,
                    min_visibility: int) -> list[str]:
    vis = f", GT below visibility level {min_visibility} ignored" if min_visibility else ""
    return [
        f"# Identity switches: {' vs '.join(trackers)} (baseline: {baseline})",
        "",
        f"{len(names)} test sequences, IoU >= {iou_threshold:g} to match{vis}. Every tracker runs on the same "
        "detections of a source through the same association code; each model at its own settings (under "
        "Settings: tuned on the tuning split, or the config's). A tracker with several runs (training "
        "seeds, GT-degradation draws) is shown as the mean over its runs; every difference is paired with the "
        "baseline's run on the same detections.",
        "",
        f"Statistics: {SIGNIFICANCE_NOTE}. Overall values: {WEIGHTING_NOTE}.",
        "",
    ]


def overall_table(overall: Mapping[str, Mapping[str, Any]], baseline: str, n_runs: Mapping[str, int],
                  trackers: Sequence[str] | None = None) -> str:
    """One row per tracker, in ``trackers``' order (tracking.trackers'; a JSON read back keeps
    its keys sorted)."""
    base = overall[baseline]["IDSW"]
    rows = []
    for t, r in ((t, overall[t]) for t in (trackers or overall)):
        delta = r["IDSW"] - base
        rows.append([t + (" (baseline)" if t == baseline else ""), str(n_runs[t]), fmt(r["IDSW"], "count"),
                     fmt(delta, "delta"), fmt(r["IDSW"] / base if base else None, "ratio"), fmt(r["MOTA"]),
                     fmt(r["IDF1"]), fmt(r["HOTA"]), fmt(r["FP"], "count"), fmt(r["FN"], "count"),
                     fmt(r["Frag"], "count"), fmt(r["IDSW_trackeval"], "count")])
    return table(["tracker", "runs", "IDSW¹", "ΔIDSW", "IDSW ratio", "MOTA", "IDF1", "HOTA", "FP", "FN", "Frag",
                  "IDSW (TrackEval)¹"], rows)


def sequence_table(result: Mapping[str, Any], names: Sequence[str]) -> str:
    trackers, compared, seqs = result["trackers"], result["compared"], result["sequences"]
    header = ["sequence"] + [f"IDSW {t}" for t in trackers] + [f"Δ {t}" for t in compared]
    header += ["recall", "gap frames", "GT/frame", "max GT", "pair IoU"]
    body = []
    for s in names:
        q = seqs[s]
        body.append([s] + [fmt(q["idsw"][t], "count") for t in trackers]
                    + [fmt(q["idsw_delta"][t], "delta") for t in compared]
                    + [fmt(q["gaps"].get("detection_recall")), fmt(q["gaps"]["gap_frames"], "count"),
                       f"{q['crowding']['mean_objects_per_frame']:.1f}",
                       fmt(q["crowding"]["max_objects_per_frame"], "count"), fmt(q["crowding"]["mean_pairwise_iou"])])
    return table(header, body)


def _r(c: Mapping[str, Any]) -> str:
    lo, hi = c["ci"]
    return fmt(c["r"]) + (f" [{lo:+.2f}, {hi:+.2f}]" if lo is not None else "")


def correlation_section(result: Mapping[str, Any], names: Sequence[str], level: str) -> list[str]:
    baseline, compared = result["baseline"], result["compared"]
    if not compared:
        return []
    rows = [[t, var, str(c["n"]), _r(c["pearson"]), fmt(c["pearson"]["p"], "p"), _r(c["spearman"]),
             fmt(c["spearman"]["p"], "p"), c["reason"] or ""]
            for t in compared for var, c in result["correlations"][t].items()]
    out = [f"{level} What explains the IDSW delta (tracker - {baseline}, per sequence)", "",
           f"Intervals: {CORRELATION_INTERVAL}; the delta is the mean over draws and seeds (the plots show each run).",
           ""]
    need = result.get("min_correlation_sequences", 0)
    if len(names) < need:
        out += [f"**Too small to read:** n = {len(names)} sequences (< {need}); shown for reference only.", ""]
    return out + [table(["tracker", "variable", "n", "Pearson r [CI]", "p", "Spearman ρ [CI]", "p", "note"], rows), ""]


def selection_text(sel: Mapping[str, Any] | None) -> str:
    """What the tuning chose, and whether its best cell beat the config's beyond the noise."""
    if not sel:
        return ""
    beats = sel.get("beats_config") or {}
    if sel.get("best_cell") == sel.get("config_cell"):
        return "; the best tuning cell is the config's own"
    ci = beats.get("ci") or [None, None]
    ev = (f" ({beats.get('metric')} {fmt(beats.get('estimate'), 'delta')}, CI {fmt(ci[0], 'delta')} to "
          f"{fmt(ci[1], 'delta')}, p = {fmt(beats.get('p'), 'p')})") if beats else ""
    if sel.get("chosen") == "config":
        return f"; the best tuning cell ({sel.get('best_cell')}) did not beat the config cell beyond the noise{ev}: config cell kept"
    return f"; the best tuning cell beat the config cell ({sel.get('config_cell')}) beyond the noise{ev}"


def settings_lines(result: Mapping[str, Any]) -> list[str]:
    """Which settings each tracker's runs used and where they came from (tuned, or config)."""
    lines = []
    settings = result.get("settings") or {}
    for t, per_run in ((t, settings[t]) for t in result.get("trackers", settings) if t in settings):
        for label, used in per_run.items():
            if not used:
                continue
            a, m = used.get("association", {}), used.get("motion", {})
            keys = ", ".join(f"{k} {v}" for k, v in sorted({**{k: a[k] for k in SHOWN_ASSOCIATION if k in a},
                                                            **{k: v for k, v in m.items() if k in SHOWN_MOTION}}.items()))
            lines.append(f"- {t} ({label}): {used.get('origin', 'config')}{selection_text(used.get('selection'))}: {keys}")
    return ["Settings (each model at its own; the test scenes are scored once, here):", "", *lines, ""] if lines else []


def ego_section(result: Mapping[str, Any], level: str) -> list[str]:
    rows = [[t, label, fmt(r["off"]["IDSW"]), fmt(r["on"]["IDSW"]), fmt(r["off"]["MOTA"]), fmt(r["on"]["MOTA"]),
             fmt(r["off"]["IDF1"]), fmt(r["on"]["IDF1"])]
            for t, per in (result.get("ego_compensation") or {}).items() for label, r in per.items()]
    if not rows:
        return []
    return [f"{level} Ego-motion compensation off vs on (same settings otherwise)", "",
            table(["tracker", "run", "IDSW off", "IDSW on", "MOTA off", "MOTA on", "IDF1 off", "IDF1 on"], rows), ""]


def markdown_section(result: Mapping[str, Any], names: Sequence[str], level: str = "###") -> list[str]:
    """Overall table, verdicts, statistics, runs, per class, settings, ego, per sequence and
    correlations of one detection source."""
    baseline = result["baseline"]
    out = [f"{level} Overall", "", f"Detection recall (GT boxes matched by a detection): {fmt(result['detection_recall'])}.",
           "", overall_table(result["overall"], baseline, result["n_runs"], result["trackers"]), ""]
    out += floor_lines(result)
    for t in result["compared"]:
        out += verdict_lines(t, result["statistics"][t], baseline, result)
    if result["compared"]:
        out += [f"{level} Paired statistics against {baseline}", "", stats_table(result["statistics"]), ""]
    out += [f"{level} Every run", "", runs_table(result["runs"]), ""]
    out += class_section(result.get("classes") or {}, baseline, result["min_class_idsw"], level)
    out += settings_lines(result) + ego_section(result, level)
    out += [f"{level} Per sequence", "", sequence_table(result, names), ""]
    return out + correlation_section(result, names, level)


def markdown_sources(sections: Mapping[str, Mapping[str, Any]], names: Sequence[str], *, iou_threshold: float,
                     min_visibility: int) -> str:
    """Every detection source's comparison, one section each (``sections[source]``: its analysis)."""
    first = next(iter(sections.values()))
    out = markdown_header(first["trackers"], first["baseline"], names, iou_threshold=iou_threshold,
                          min_visibility=min_visibility)
    for source, result in sections.items():
        flag = "" if result["meaningful"] else " — not meaningful"
        out += [f"## Detections: {SOURCES.get(source, source)}{flag}", ""]
        out += markdown_section(result, names)
    return "\n".join(out + [f"¹ {IDSW_CONVENTION}", ""])
