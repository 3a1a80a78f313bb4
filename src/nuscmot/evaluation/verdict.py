"""The verdict of ``compare_idsw``: every tracker's IDSW against the baseline per detection
source, what explains the difference (detection gaps, crowding: per-sequence correlations),
whether the verdict is meaningful, and its plots. :mod:`nuscmot.evaluation.compare` holds the
pure table and statistics functions; this module reads the runs and writes the outputs."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, read_json, write_csv, write_json, write_text
from nuscmot.evaluation import compare, plots
from nuscmot.evaluation.crowding import crowding
from nuscmot.evaluation.gaps import detection_gaps
from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_sequence, ignored_gt_mask, switch_events
from nuscmot.evaluation.sequences import load_detections, load_gt, load_results

log = logging.getLogger(__name__)


def explanatory_variables(mot_dir: Path, dets_dir: Path, names: list[str], cfg: EvaluationConfig) -> tuple[dict, dict]:
    """Per sequence ``{"gaps": ..., "crowding": ...}`` (JSON-ready) and GT objects per frame."""
    from tqdm import tqdm

    out, counts = {}, {}
    for name in tqdm(names, desc="gaps/crowding", unit="seq", disable=None):
        gt = load_gt(mot_dir, name)
        rows = gt.rows[~ignored_gt_mask(gt.rows, cfg.min_visibility)]
        dets = load_detections(dets_dir, name, gt.length)
        crowd = crowding(rows, gt.length)
        out[name] = {
            "gaps": detection_gaps(rows, dets, gt.length, cfg.iou_threshold, cfg.class_aware).to_json(),
            "crowding": crowd.to_json(),
        }
        counts[name] = crowd.objects_per_frame
    return out, counts


def switch_frames(mot_dir: Path, results: dict[str, Path], name: str, cfg: EvaluationConfig) -> dict[str, list[int]]:
    """Frames of every motmetrics switch in sequence ``name``, per tracker (re-evaluated)."""
    gt = load_gt(mot_dir, name)
    out = {}
    for tracker, folder in results.items():
        ev = evaluate_sequence(name, gt.rows, load_results(folder, name, gt.length), gt.length, cfg)
        out[tracker] = [f for f, _, _ in switch_events(ev)]
    return out


def write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    """The comparison table of every source (``source`` column first)."""
    columns = ["source", *compare.TABLE_COLUMNS]
    write_csv(path, columns, ([r[c] for c in columns] for r in rows))


def draw_plots(folder: Path, prefix: str, result: dict, names: list[str], counts: dict, worst: dict) -> None:
    baseline, compared = result["baseline"], result["compared"]
    seqs = result["sequences"]
    plots.idsw_per_sequence(
        folder / f"{prefix}idsw_per_sequence.png", names,
        {t: {s: seqs[s]["idsw"][t] for s in names} for t in result["trackers"]}, baseline,
    )
    deltas = {t: [seqs[s]["idsw_delta"][t] for s in names] for t in compared}
    for var, fname, title in (
        (compare.GAP_VARIABLE, "idsw_delta_vs_gaps.png", "IDSW delta vs detection gaps"),
        (compare.CROWDING_VARIABLE, "idsw_delta_vs_crowding.png", "IDSW delta vs crowding"),
    ):
        group, key, label = compare.VARIABLES[var]
        plots.delta_scatter(
            folder / f"{prefix}{fname}",
            [seqs[s][group][key] for s in names],
            deltas,
            {t: result["correlations"][t][var]["pearson"]["r"] for t in compared},
            xlabel=label,
            title=f"{title} ({prefix.rstrip('_')})" if prefix else title,
            baseline=baseline,
        )
    seq = worst["sequence"]
    sub = f"largest |IDSW delta| ({worst['tracker']}: {worst['idsw_delta']:+d})" if worst["tracker"] else "most switches"
    plots.switch_timeline(folder / f"{prefix}timeline_worst.png", seq, counts[seq], worst["switch_frames"], subtitle=sub)


@dataclass(frozen=True)
class VerdictPaths:
    """Where the comparison goes: the table (CSV, Markdown), the analysis JSON, the plots folder."""

    csv: Path
    md: Path
    json: Path
    plots_dir: Path


@dataclass(frozen=True)
class SourceInputs:
    """What one detection source's comparison reads: per tracker metrics and results, its detections."""

    source: str
    metrics: dict[str, Path]
    results: dict[str, Path]
    dets_dir: Path


def compare_source(src: SourceInputs, trackers: list[str], names: list[str], mot_dir: Path, cfg: compare.CompareConfig,
                   ecfg: EvaluationConfig) -> tuple[list[dict], dict, dict]:
    """Rows, analysis (with validity and the worst sequence) and GT counts of one source."""
    metrics = {t: compare.load_metrics(src.metrics[t], t, names) for t in trackers}
    for t, m in metrics.items():
        if m.get("params", {}).get("iou_threshold", ecfg.iou_threshold) != ecfg.iou_threshold:
            log.warning("%s metrics used iou_threshold %s, the analysis uses %s", t, m["params"]["iou_threshold"], ecfg.iou_threshold)
    rows = [{"source": src.source, **r} for r in compare.comparison_rows(metrics, trackers, cfg.baseline, names)]
    explanatory, counts = explanatory_variables(mot_dir, src.dets_dir, names, ecfg)
    result = compare.analysis(metrics, trackers, cfg.baseline, names, explanatory, cfg)
    seq, tracker = compare.worst_sequence(result, names)
    worst = {
        "sequence": seq,
        "tracker": tracker,
        "idsw_delta": result["sequences"][seq]["idsw_delta"].get(tracker, 0) if tracker else 0,
        "switch_frames": switch_frames(mot_dir, src.results, seq, ecfg),
    }
    for t, frames in worst["switch_frames"].items():
        if len(frames) != result["sequences"][seq]["idsw"][t]:
            log.warning("%s: %d switches re-evaluated in %s, %d in its metrics JSON (different evaluation params?)",
                        t, len(frames), seq, result["sequences"][seq]["idsw"][t])  # fmt: skip
    result["worst_sequence"] = worst
    return rows, result, counts


def read_settings(results: Path) -> dict[str, Any] | None:
    """What ``run_tracker`` recorded in its output folder: the settings used and where they came from."""
    from nuscmot.tracking.run import SETTINGS_FILE

    path = results / SETTINGS_FILE
    return read_json(path, "tracking settings") if path.is_file() else None


def ego_table(src: SourceInputs, trackers: list[str], flipped: dict[str, tuple[Path, Path]],
              names: list[str]) -> dict[str, dict[str, Any]]:
    """Per tracker: overall IDSW/MOTA/IDF1 with ego-motion compensation off and on (the same
    settings otherwise), from the main run and the flipped one."""
    out = {}
    for t in trackers:
        runs = [(src.metrics[t], src.results[t]), flipped[t]]
        row = {}
        for metrics_path, results in runs:
            used = read_settings(results) or {}
            state = "on" if (used.get("association") or {}).get("ego_compensation") else "off"
            overall = compare.load_metrics(metrics_path, t, names)["overall"]
            row[state] = {m: overall[m] for m in ("IDSW", "MOTA", "IDF1")}
        if set(row) != {"on", "off"}:
            raise InputError(runs[1][1], "the flipped run did not flip ego_compensation (settings.json)")
        out[t] = row
    return out


def compare_idsw(cfg: compare.CompareConfig, ecfg: EvaluationConfig, trackers: list[str], groups: list[SourceInputs],
                 flips: dict, mot_dir: Path, names: list[str], out: VerdictPaths) -> dict[str, Any]:
    """The comparison of every source (table, JSON, Markdown, plots); ``flips``: the
    ego-compensation-flipped runs per source and tracker (empty: no on/off table)."""
    if cfg.baseline not in trackers:
        raise InputError("compare", f"baseline {cfg.baseline!r} is not one of the trackers ({', '.join(trackers)})", key="baseline")
    sections, rows, doc = {}, [], {}
    with atomic_dir(out.plots_dir) as folder:
        for src in groups:
            src_rows, result, counts = compare_source(src, trackers, names, mot_dir, cfg, ecfg)
            result["settings"] = {t: read_settings(src.results[t]) for t in trackers}
            if flips:
                result["ego_compensation"] = ego_table(src, trackers, flips[src.source], names)
            draw_plots(folder, f"{src.source}_", result, names, counts, result["worst_sequence"])
            sections[src.source] = ([{k: v for k, v in r.items() if k != "source"} for r in src_rows], result)
            rows += src_rows
            doc[src.source] = result
    doc["params"] = {"compare": dataclasses.asdict(cfg), "evaluation": dataclasses.asdict(ecfg)}
    md = compare.markdown_sources(sections, names, iou_threshold=ecfg.iou_threshold, min_visibility=ecfg.min_visibility)
    write_table(out.csv, rows)
    write_json(out.json, doc)
    write_text(out.md, md)
    for source, (_, result) in sections.items():
        log.info("%s: compared %s on %d sequences (%s)", source, ", ".join(trackers), len(names),
                 "meaningful" if result["meaningful"] else f"not meaningful: {result['reason']}")
    return doc
