"""Compare trackers: IDSW delta/ratio against the baseline, and what explains the delta.

Reads the per-tracker metrics JSON written by ``evaluate_tracker``; builds the comparison
table (OVERALL rows first, then per sequence), correlates each tracker's per-sequence IDSW
delta with the explanatory variables (detection gaps, crowding), and renders the Markdown.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.fields import AT_LEAST_0, UNIT, check_fields, limited
from nuscmot.common.io import read_json
from nuscmot.evaluation.metrics import IDSW_CONVENTION

TABLE_COLUMNS = [
    "sequence", "tracker", "IDSW", "IDSW_delta", "IDSW_ratio", "MOTA", "IDF1", "HOTA", "FP", "FN", "Frag",
    "IDSW_trackeval",
]  # fmt: skip
_FROM_METRICS = ["IDSW", "MOTA", "IDF1", "HOTA", "FP", "FN", "Frag", "IDSW_trackeval"]

# name -> (where in the per-sequence analysis, key, axis label)
VARIABLES = {
    "gap_frames": ("gaps", "gap_frames", "detection-gap frames in the sequence"),
    "gap_frames_per_track": ("gaps", "gap_frames_per_track", "detection-gap frames per GT track"),
    "mean_objects_per_frame": ("crowding", "mean_objects_per_frame", "mean GT objects per frame"),
    "max_objects_per_frame": ("crowding", "max_objects_per_frame", "max GT objects in a frame"),
    "mean_pairwise_iou": ("crowding", "mean_pairwise_iou", "mean pairwise IoU between GT boxes"),
}
SHOWN_ASSOCIATION = ("match_thresh", "max_age_s", "track_high_thresh", "ego_compensation")
SHOWN_MOTION = ("std_weight_velocity", "rollout_horizon", "rollout_fallback", "head")
GAP_VARIABLE = "gap_frames"  # plotted against the delta
CROWDING_VARIABLE = "mean_objects_per_frame"


SOURCES = {
    "detector": "the detector's output (`infer`)",
    "gt": "GT-derived detections (`gt_detections`: dropped boxes, jitter, false positives)",
}


@dataclass(frozen=True)
class CompareConfig:
    """The ``compare`` config slice."""

    baseline: str = limited("kalman", minLength=1)  # tracker every other tracker is compared with
    use_tuned: bool = True  # track the test scenes with each model's best settings on the tuning split
    ego_ablation: bool = True  # also track with ego_compensation flipped: an on/off table
    min_detection_recall: float = limited(0.2, **UNIT)  # below: the detections miss too much for a verdict
    min_baseline_idsw: int = limited(10, **AT_LEAST_0)  # below: too few switches to compare
    min_correlation_sequences: int = limited(8, **AT_LEAST_0)  # below: the correlation table is marked too small

    def __post_init__(self) -> None:
        check_fields(self, "compare")


def detection_recall(explanatory: Mapping[str, Mapping[str, Mapping]], names: Sequence[str]) -> float | None:
    """Share of the evaluated GT boxes of all sequences that a detection matches (None: no GT)."""
    gt = sum(explanatory[s]["gaps"].get("gt_boxes", 0) for s in names)
    hit = sum(explanatory[s]["gaps"].get("matched_gt_boxes", 0) for s in names)
    return hit / gt if gt else None


def validity(recall: float | None, baseline_idsw: int, baseline: str, cfg: CompareConfig) -> dict[str, Any]:
    """Whether a verdict over these detections means anything; the reason, with the figures."""
    problems = []
    if recall is None:
        problems.append("the test sequences have no GT boxes to evaluate")
    elif recall < cfg.min_detection_recall:
        problems.append(f"the detections match {recall:.1%} of the GT boxes (< {cfg.min_detection_recall:.0%})")
    if baseline_idsw < cfg.min_baseline_idsw:
        problems.append(f"{baseline} has {baseline_idsw} identity switches (< {cfg.min_baseline_idsw})")
    return {"meaningful": not problems, "reason": "; ".join(problems) or None,
            "detection_recall": recall, "baseline_idsw": int(baseline_idsw)}


def load_metrics(path: str | Path, tracker: str, names: Sequence[str]) -> dict[str, Any]:
    """A metrics JSON from ``evaluate_tracker``, checked against the tracker and the seqmap."""
    path = Path(path)
    data = read_json(path, "metrics JSON", missing="missing metrics file")
    if not isinstance(data, dict) or not isinstance(data.get("sequences"), dict) or not isinstance(data.get("overall"), dict):
        raise InputError(path, "not a metrics JSON from evaluate_tracker (needs 'sequences' and 'overall')")
    if data.get("tracker") != tracker:
        raise InputError(
            path, f"holds metrics of tracker {data.get('tracker')!r}, expected {tracker!r} (--trackers and --metrics must be in the same order)"
        )
    missing = [n for n in names if n not in data["sequences"]]
    if missing:
        raise InputError(path, f"no metrics for sequence(s) {', '.join(missing[:5])} of the seqmap")
    for where, row in [("overall", data["overall"])] + [(n, data["sequences"][n]) for n in names]:
        for col in _FROM_METRICS:
            if col not in row:
                raise InputError(path, f"missing metric {col}", key=f"{where}.{col}")
    return data


def delta_ratio(idsw: int, base: int) -> tuple[int, float | None]:
    """IDSW delta and ratio against the baseline; the ratio is None when the baseline has 0."""
    return idsw - base, (idsw / base if base > 0 else None)


def comparison_rows(metrics: Mapping[str, Mapping], trackers: Sequence[str], baseline: str, names: Sequence[str]) -> list[dict[str, Any]]:
    """One row per (sequence, tracker): OVERALL rows first, then sequences in seqmap order."""
    rows = []
    for seq in ["OVERALL", *names]:
        pick = (lambda t: metrics[t]["overall"]) if seq == "OVERALL" else (lambda t: metrics[t]["sequences"][seq])
        base = pick(baseline)["IDSW"]
        for t in trackers:
            m = pick(t)
            delta, ratio = delta_ratio(m["IDSW"], base)
            row = {"sequence": seq, "tracker": t, "IDSW_delta": delta, "IDSW_ratio": ratio}
            row.update({c: m[c] for c in _FROM_METRICS})
            rows.append({c: row[c] for c in TABLE_COLUMNS})
    return rows


def correlation(x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    """Pearson and Spearman r with p-values; nulls and a ``reason`` where they are undefined."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    out: dict[str, Any] = {
        "n": int(len(x)),
        "pearson": {"r": None, "p": None},
        "spearman": {"r": None, "p": None},
        "reason": None,
    }
    if len(x) < 3:
        out["reason"] = f"fewer than 3 sequences ({len(x)})"
    elif np.ptp(x) == 0:
        out["reason"] = "explanatory variable is constant over the sequences"
    elif np.ptp(y) == 0:
        out["reason"] = "IDSW delta is constant over the sequences"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for key, res in (("pearson", stats.pearsonr(x, y)), ("spearman", stats.spearmanr(x, y))):
                r, p = float(res[0]), float(res[1])
                if math.isfinite(r):
                    out[key] = {"r": r, "p": p if math.isfinite(p) else None}
        if out["pearson"]["r"] is None or out["spearman"]["r"] is None:
            out["reason"] = "correlation undefined for these values"
    return out


def analysis(
    metrics: Mapping[str, Mapping],
    trackers: Sequence[str],
    baseline: str,
    names: Sequence[str],
    explanatory: Mapping[str, Mapping[str, Mapping]],
    cfg: CompareConfig | None = None,
) -> dict[str, Any]:
    """Per-sequence IDSW, delta and explanatory variables; correlations per compared tracker;
    whether the verdict is meaningful (:func:`validity`).

    ``explanatory[seq]`` holds ``{"gaps": {...}, "crowding": {...}}`` (see :data:`VARIABLES`).
    """
    cfg = cfg or CompareConfig(baseline=baseline)
    compared = [t for t in trackers if t != baseline]
    sequences = {}
    for seq in names:
        idsw = {t: metrics[t]["sequences"][seq]["IDSW"] for t in trackers}
        sequences[seq] = {
            "idsw": idsw,
            "idsw_delta": {t: idsw[t] - idsw[baseline] for t in compared},
            **{k: dict(v) for k, v in explanatory[seq].items()},
        }
    correlations = {
        t: {
            var: correlation(
                [sequences[s][group][key] for s in names], [sequences[s]["idsw_delta"][t] for s in names]
            )
            for var, (group, key, _) in VARIABLES.items()
        }
        for t in compared
    }
    too_small = len(names) < cfg.min_correlation_sequences
    for per_var in correlations.values():
        for c in per_var.values():
            c["too_small"] = too_small
    return {
        **validity(detection_recall(explanatory, names), metrics[baseline]["overall"]["IDSW"], baseline, cfg),
        "baseline": baseline,
        "trackers": list(trackers),
        "compared": compared,
        "min_correlation_sequences": cfg.min_correlation_sequences,
        "delta_definition": "IDSW(tracker) - IDSW(baseline), per sequence",
        "idsw_convention": IDSW_CONVENTION,
        "variables": {var: label for var, (_, _, label) in VARIABLES.items()},
        "sequences": sequences,
        "correlations": correlations,
    }


def worst_sequence(result: Mapping[str, Any], names: Sequence[str]) -> tuple[str, str | None]:
    """(sequence, tracker) with the largest |IDSW delta| (first compared tracker; seqmap order breaks ties).

    With no tracker to compare, the sequence with the most baseline switches.
    """
    seqs = result["sequences"]
    if result["compared"]:
        t = result["compared"][0]
        return max(names, key=lambda s: (abs(seqs[s]["idsw_delta"][t]), -names.index(s))), t
    b = result["baseline"]
    return max(names, key=lambda s: (seqs[s]["idsw"][b], -names.index(s))), None


# ---------------------------------------------------------------- Markdown


def _fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return "n/a"
    if kind == "delta":
        return f"{value:+d}"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "p":
        return f"{value:.3g}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=header, tablefmt="github", disable_numparse=True)


def markdown_header(trackers: Sequence[str], baseline: str, names: Sequence[str], *, iou_threshold: float,
                    min_visibility: int) -> list[str]:
    vis = f", GT below visibility level {min_visibility} ignored" if min_visibility else ""
    return [
        f"# Identity switches: {' vs '.join(trackers)} (baseline: {baseline})",
        "",
        f"{len(names)} test sequences, IoU >= {iou_threshold:g} to match{vis}. Same detections and "
        "association for every tracker; only the motion model differs.",
        "",
    ]


def _overall_table(overall: list[dict[str, Any]], baseline: str) -> str:
    return _table(
        ["tracker", "IDSW¹", "ΔIDSW", "IDSW ratio", "MOTA", "IDF1", "HOTA", "FP", "FN", "Frag", "IDSW (TrackEval)¹"],
        [
            [
                r["tracker"] + (" (baseline)" if r["tracker"] == baseline else ""),
                _fmt(r["IDSW"]), _fmt(r["IDSW_delta"], "delta"), _fmt(r["IDSW_ratio"], "ratio"),
                _fmt(r["MOTA"]), _fmt(r["IDF1"]), _fmt(r["HOTA"]), _fmt(r["FP"]), _fmt(r["FN"]),
                _fmt(r["Frag"]), _fmt(r["IDSW_trackeval"]),
            ]  # fmt: skip
            for r in overall
        ],
    )


def verdict_line(tracker: str, r: Mapping[str, Any], b: Mapping[str, Any], baseline: str,
                 valid: Mapping[str, Any]) -> str:
    """The verdict sentence; over degenerate input it says so instead of naming a winner."""
    figures = f"{r['IDSW']} vs {b['IDSW']}"
    diffs = ", ".join(f"{m} {_fmt(r[m])} vs {_fmt(b[m])}" for m in ("MOTA", "IDF1", "HOTA"))
    if not valid["meaningful"]:
        return f"**Verdict ({tracker}): not meaningful**: {valid['reason']}. (IDSW {figures}; {diffs}.)"
    if r["IDSW_delta"] > 0:
        how = f"**{r['IDSW_delta']} more** identity switches than {baseline}"
    elif r["IDSW_delta"] < 0:
        how = f"**{-r['IDSW_delta']} fewer** identity switches than {baseline}"
    else:
        how = f"as many identity switches as {baseline}"
    ratio = f" (ratio {_fmt(r['IDSW_ratio'], 'ratio')})" if r["IDSW_ratio"] is not None else ""
    return f"**Verdict ({tracker}):** {figures}: {how}{ratio}; {diffs}."


def _sequence_table(result: Mapping[str, Any], names: Sequence[str]) -> str:
    trackers, compared, seqs = result["trackers"], result["compared"], result["sequences"]
    header = ["sequence"] + [f"IDSW {t}" for t in trackers] + [f"Δ {t}" for t in compared]
    header += ["recall", "gap frames", "GT/frame", "max GT", "pair IoU"]
    body = []
    for s in names:
        q = seqs[s]
        body.append(
            [s]
            + [_fmt(q["idsw"][t]) for t in trackers]
            + [_fmt(q["idsw_delta"][t], "delta") for t in compared]
            + [
                _fmt(q["gaps"].get("detection_recall")),
                _fmt(q["gaps"]["gap_frames"]),
                f"{q['crowding']['mean_objects_per_frame']:.1f}",
                _fmt(q["crowding"]["max_objects_per_frame"]),
                _fmt(q["crowding"]["mean_pairwise_iou"]),
            ]
        )
    return _table(header, body)


def _correlation_section(result: Mapping[str, Any], names: Sequence[str], level: str) -> list[str]:
    baseline, compared = result["baseline"], result["compared"]
    if not compared:
        return []
    corr_rows = []
    for t in compared:
        for var, c in result["correlations"][t].items():
            corr_rows.append(
                [t, var, str(c["n"]), _fmt(c["pearson"]["r"]), _fmt(c["pearson"]["p"], "p"),
                 _fmt(c["spearman"]["r"]), _fmt(c["spearman"]["p"], "p"), c["reason"] or ""]
            )  # fmt: skip
    out = [f"{level} What explains the IDSW delta (tracker - {baseline}, per sequence)", ""]
    need = result.get("min_correlation_sequences", 0)
    if len(names) < need:
        out += [f"**Too small to read:** n = {len(names)} sequences (< {need}); shown for reference only.", ""]
    return out + [_table(["tracker", "variable", "n", "Pearson r", "p", "Spearman ρ", "p", "note"], corr_rows), ""]


def _settings_lines(result: Mapping[str, Any]) -> list[str]:
    """Which settings each row used, and where they came from (tuned on the tuning split, or config)."""
    settings = result.get("settings") or {}
    lines = []
    for t, used in settings.items():
        if not used:
            continue
        a, m = used.get("association", {}), used.get("motion", {})
        keys = ", ".join(f"{k} {v}" for k, v in sorted({**{k: a[k] for k in SHOWN_ASSOCIATION if k in a},
                                                        **{k: v for k, v in m.items() if k in SHOWN_MOTION}}.items()))
        lines.append(f"- {t}: {used.get('origin', 'config')}: {keys}")
    return ["Settings (each model at its own; the test scenes are scored once, here):", "", *lines, ""] if lines else []


def _ego_section(result: Mapping[str, Any], level: str) -> list[str]:
    table = result.get("ego_compensation")
    if not table:
        return []
    rows = [[t, _fmt(r["off"]["IDSW"]), _fmt(r["on"]["IDSW"]), _fmt(r["off"]["MOTA"]), _fmt(r["on"]["MOTA"]),
             _fmt(r["off"]["IDF1"]), _fmt(r["on"]["IDF1"])] for t, r in table.items()]
    return [f"{level} Ego-motion compensation off vs on (same settings otherwise)", "",
            _table(["tracker", "IDSW off", "IDSW on", "MOTA off", "MOTA on", "IDF1 off", "IDF1 on"], rows), ""]


def markdown_section(rows: list[dict[str, Any]], result: Mapping[str, Any], names: Sequence[str],
                     level: str = "##") -> list[str]:
    """Overall table, verdicts, per-sequence table and correlations of one detection source."""
    baseline = result["baseline"]
    overall = [r for r in rows if r["sequence"] == "OVERALL"]
    by_tracker = {r["tracker"]: r for r in overall}
    recall = result.get("detection_recall")
    out = [f"{level} Overall", "", f"Detection recall (GT boxes matched by a detection): {_fmt(recall)}.", "",
           _overall_table(overall, baseline), ""]
    for t in result["compared"]:
        out += [verdict_line(t, by_tracker[t], by_tracker[baseline], baseline, result), ""]
    out += _settings_lines(result)
    out += _ego_section(result, level)
    out += [f"{level} Per sequence", "", _sequence_table(result, names), ""]
    return out + _correlation_section(result, names, level)


def markdown(rows: list[dict[str, Any]], result: Mapping[str, Any], names: Sequence[str], *, iou_threshold: float,
             min_visibility: int) -> str:
    """One detection source's comparison as Markdown: overall table, verdict, per sequence, correlations."""
    out = markdown_header(result["trackers"], result["baseline"], names, iou_threshold=iou_threshold,
                          min_visibility=min_visibility)
    return "\n".join(out + markdown_section(rows, result, names) + [f"¹ {IDSW_CONVENTION}", ""])


def markdown_sources(sections: Mapping[str, tuple[list[dict[str, Any]], Mapping[str, Any]]], names: Sequence[str], *,
                     iou_threshold: float, min_visibility: int) -> str:
    """Every detection source's comparison, one section each (``sections[source] = (rows, result)``)."""
    first = next(iter(sections.values()))[1]
    out = markdown_header(first["trackers"], first["baseline"], names, iou_threshold=iou_threshold,
                          min_visibility=min_visibility)
    for source, (rows, result) in sections.items():
        flag = "" if result["meaningful"] else " — not meaningful"
        out += [f"## Detections: {SOURCES.get(source, source)}{flag}", ""]
        out += markdown_section(rows, result, names, level="###")
    return "\n".join(out + [f"¹ {IDSW_CONVENTION}", ""])
