"""``results/finetune_effect.md`` and its plots (:mod:`.finetune_effect`'s document in words and
figures): per-source detection and tracking figures, every change with its interval and p, the
TrackSSM-minus-Kalman difference per source, and the expected-vs-measured table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.evaluation.plots import _COLORS, _figure, _save
from nuscmot.evaluation.report import fmt, table

DETECTION_ROWS = (("recall", "detection recall", ""), ("AP50", "AP@0.5 (mean over sequences)", ""),
                  ("AR100", "AR@100 (mean over sequences)", ""), ("gap_frames", "gap frames", "count"),
                  ("gap_runs", "gap runs", "count"), ("gap_frames_per_track", "gap frames per GT track", ""),
                  ("crowded_recall", "recall, crowded frames", ""), ("sparse_recall", "recall, sparse frames", ""))
MARK_NOTE = ("A claim is **met** when the change is significant (Wilcoxon signed-rank p over sequences below alpha "
             "and the paired bootstrap interval of the difference excluding 0) and the measured relative change "
             "reaches at least the low end of the expected range in the claimed direction (inside the range or "
             "beyond it); **not met** when it is significant but smaller than that or in the opposite direction; "
             "**not significant** otherwise. Relative change: sum over sequences (fine-tuned) / sum (baseline) - 1, "
             "its interval from the same bootstrap (sequences and seeds resampled).")


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:+.1f}%"


def _interval(ci: Sequence[float | None], kind: str) -> str:
    lo, hi = ci
    if lo is None:
        return "n/a"
    if kind == "pct":
        return f"{pct(lo)} to {pct(hi)}"
    return f"{fmt(lo, 'delta')} to {fmt(hi, 'delta')}" if kind == "count" else f"{lo:+.3f} to {hi:+.3f}"


def _change_cells(change: Mapping[str, Any], kind: str) -> list[str]:
    a = change["absolute"]
    est = fmt(a["estimate"], "delta") if kind == "count" else ("n/a" if a["estimate"] is None else f"{a['estimate']:+.3f}")
    rel = change.get("relative")
    cells = [est, _interval(a["ci"], kind), pct(rel["estimate"]) if rel else "", _interval(rel["ci"], "pct") if rel else "",
             f"{a['better']}/{a['worse']}/{a['ties']}", fmt(a["p"], "p"), "**yes**" if a["significant"] else "no"]
    return cells


def claims_table(claims: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for c in claims:
        lo, hi = c["expected"]
        sign = "-" if c["direction"] == "reduction" else "+"
        mark = f"**{c['mark']}**" if c["mark"] == "met" else c["mark"]
        rows.append([c["label"], f"{sign}{100 * lo:.0f} to {sign}{100 * hi:.0f}%", pct(c.get("measured")),
                     _interval(c.get("ci", [None, None]), "pct"), fmt(c.get("p"), "p"), mark])
    return table(["claim", "expected", "measured", "interval", "p", "mark"], rows)


def detection_table(doc: Mapping[str, Any]) -> str:
    tot, changes = doc["detection"]["totals"], doc["detection"]["changes"]
    rows = [["AP@0.5 (all test frames)", fmt(tot["baseline"]["AP50"]), fmt(tot["finetuned"]["AP50"]), "", "", "", "",
             "", "", ""],
            ["AR@100 (all test frames)", fmt(tot["baseline"]["AR100"]), fmt(tot["finetuned"]["AR100"]), "", "", "", "",
             "", "", ""]]
    for key, label, kind in DETECTION_ROWS:
        if key in ("AP50", "AR100"):
            b = np.mean([s[key] for s in doc["detection"]["sequences"]["baseline"].values()])
            f = np.mean([s[key] for s in doc["detection"]["sequences"]["finetuned"].values()])
        else:
            b, f = tot["baseline"][key], tot["finetuned"][key]
        rows.append([label, fmt(b, kind), fmt(f, kind)] + _change_cells(changes[key], kind))
    return table(["measure", "baseline", "fine-tuned", "Δ", "CI", "Δ relative", "CI (relative)", "better/worse/tied",
                  "p", "significant"], rows)


def tracking_table(doc: Mapping[str, Any]) -> str:
    tr = doc["tracking"]
    rows = []
    for t in tr["trackers"]:
        for m in ("IDSW", "MOTA", "IDF1"):
            kind = "count" if m == "IDSW" else ""
            b, f = (tr["summary"][r][t]["mean"][m] for r in ("baseline", "finetuned"))
            rows.append([t, m, fmt(b, kind), fmt(f, kind)] + _change_cells(tr["changes"][t][m], kind))
    return table(["tracker", "metric", "baseline", "fine-tuned", "Δ", "CI", "Δ relative", "CI (relative)",
                  "better/worse/tied", "p", "significant"], rows)


def seeds_lines(doc: Mapping[str, Any]) -> list[str]:
    out = []
    for role in ("baseline", "finetuned"):
        for t, s in doc["tracking"]["summary"][role].items():
            if len(s["per_seed"]) > 1:
                seeds = ", ".join(f"seed {k}: {v['IDSW']} / {fmt(v['MOTA'])} / {fmt(v['IDF1'])}"
                                  for k, v in s["per_seed"].items())
                out.append(f"- {doc['sources'][role]} {t} (IDSW / MOTA / IDF1): {seeds}")
    return out


def paradox_lines(p: Mapping[str, Any] | None, sources: Mapping[str, str]) -> list[str]:
    if p is None:
        return ["The paradox needs both trackers' runs on both sources; not measured."]
    out = []
    for role in ("baseline", "finetuned"):
        st = p["per_source"][role]
        out.append(f"- {sources[role]} ({role}): {p['tracker']} - {p['reference']} IDSW {fmt(st['estimate'], 'delta')} "
                   f"(CI {_interval(st['ci'], 'count')}, p {fmt(st['p'], 'p')})")
    ch = p["change"]
    sig = "significant" if ch["significant"] else "not significant"
    out.append(f"- change (fine-tuned - baseline): {fmt(ch['estimate'], 'delta')} (CI {_interval(ch['ci'], 'count')}, "
               f"p {fmt(ch['p'], 'p')}): {sig} at {ch['alpha']:g}")
    return out


def markdown(doc: Mapping[str, Any]) -> str:
    src, cfg = doc["sources"], doc["config"]
    tot = doc["detection"]["totals"]["baseline"]
    lines = [
        f"# Fine-tuning effect: {src['baseline']} (baseline) vs {src['finetuned']} (fine-tuned)", "",
        f"{len(doc['sequences'])} test sequences, the same for both sources; GT boxes matched at IoU "
        f"{doc['evaluation']['iou_threshold']:g}. Crowded frames: the top {cfg['crowded_fraction']:.0%} of the "
        f"{doc['frames']} test frames by GT boxes ({tot['crowded_frames']} frames); sparse: the bottom "
        f"{cfg['crowded_fraction']:.0%} ({tot['sparse_frames']}). Intervals at {doc['level']:.0%}, paired over "
        "sequences (and seeds); p: Wilcoxon signed-rank over sequences.", "",
        "AP@0.5 and AR@100 are those of the tracked detection files (pycocotools, CAM_FRONT test frames): "
        "detections below `infer.conf_threshold` are not in them, so AP is that of the detections the trackers "
        "see, not the detector's full-curve AP (`results/detector/metrics.md`).", "",
        "## Expected vs measured", "", claims_table(doc["claims"]), "", MARK_NOTE, "",
        "## Detection", "", detection_table(doc), "",
        "## Tracking", "", tracking_table(doc), "", *seeds_lines(doc), "",
        "## The paradox: TrackSSM minus Kalman IDSW", "", *paradox_lines(doc["tracking"]["paradox"], src), "",
    ]
    return "\n".join(lines)


def _bars(ax, names: Sequence[str], values: Mapping[str, Sequence[float]], ylabel: str) -> None:
    x = np.arange(len(names))
    width = 0.8 / max(len(values), 1)
    for i, (label, v) in enumerate(values.items()):
        ax.bar(x + (i - (len(values) - 1) / 2) * width, v, width, label=label, color=_COLORS[i % len(_COLORS)])
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


def draw_plots(folder: Path, doc: Mapping[str, Any]) -> None:
    """Per-sequence recall and gap frames per source; IDSW per tracker per source."""
    names, per = doc["sequences"], doc["detection"]["sequences"]
    labels = {role: f"{doc['sources'][role]} ({role})" for role in ("baseline", "finetuned")}
    fig = _figure(min(max(6.0, 0.5 * len(names) + 2), 24.0), 6.5)
    top, bottom = fig.subplots(2, 1)
    _bars(top, names, {labels[r]: [per[r][n]["matched"] / max(per[r][n]["gt_boxes"], 1) for n in names]
                       for r in labels}, "detection recall")
    _bars(bottom, names, {labels[r]: [per[r][n]["gap_frames"] for n in names] for r in labels}, "gap frames")
    _save(fig, folder / "finetune_detection_per_sequence.png")
    tr = doc["tracking"]
    fig = _figure(max(5.0, 1.6 * len(tr["trackers"]) + 2), 4.0)
    ax = fig.add_subplot()
    _bars(ax, tr["trackers"], {labels[r]: [tr["summary"][r][t]["mean"]["IDSW"] for t in tr["trackers"]]
                               for r in labels}, "IDSW (mean over seeds)")
    _save(fig, folder / "finetune_idsw.png")
