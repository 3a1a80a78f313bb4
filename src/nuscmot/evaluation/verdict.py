"""The verdict of ``compare_idsw``: every tracker against the baseline per detection source, over
all its runs (draws, seeds: :mod:`nuscmot.evaluation.runs`), with paired intervals and p
(:mod:`nuscmot.evaluation.stats`, :mod:`nuscmot.evaluation.aggregate`), what explains the
difference (detection gaps, crowding: per-sequence correlations), whether the verdict is
meaningful, and its plots. This module reads the runs and writes the outputs; the Markdown is
:mod:`nuscmot.evaluation.markdown`'s."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, read_json, write_csv, write_json, write_text
from nuscmot.evaluation import aggregate, compare, markdown, plots
from nuscmot.evaluation.crowding import crowding
from nuscmot.evaluation.gaps import detection_gaps
from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_sequence, ignored_gt_mask, switch_events
from nuscmot.evaluation.runs import WEIGHTING_NOTE, Run, SourceRuns, group_runs
from nuscmot.evaluation.sequences import load_detections, load_gt, load_results

log = logging.getLogger(__name__)


def explanatory_variables(mot_dir: Path, dets_dir: Path, names: list[str], cfg: EvaluationConfig) -> tuple[dict, dict]:
    """Per sequence ``{"gaps": ..., "crowding": ...}`` (JSON-ready) and GT objects per frame."""
    from tqdm import tqdm

    out, counts = {}, {}
    for name in tqdm(names, desc="gaps/crowding", unit="seq", disable=None):
        gt = load_gt(mot_dir, name, cfg.ignore_rules)
        rows = gt.rows[~ignored_gt_mask(gt.rows, cfg)]
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
    gt = load_gt(mot_dir, name, cfg.ignore_rules)
    out = {}
    for tracker, folder in results.items():
        ev = evaluate_sequence(name, gt.rows, load_results(folder, name, gt.length), gt.length, cfg)
        out[tracker] = [f for f, _, _ in switch_events(ev)]
    return out


def write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    """Every run's table (``source`` column first; OVERALL rows first within a draw)."""
    columns = ["source", *aggregate.RUN_COLUMNS]
    write_csv(path, columns, ([r[c] for c in columns] for r in rows))


def draw_plots(folder: Path, prefix: str, result: dict, names: list[str], counts: dict, worst: dict) -> None:
    baseline, compared, seqs = result["baseline"], result["compared"], result["sequences"]
    runs = {t: {s: seqs[s]["idsw_runs"][t] for s in names} for t in result["trackers"]}
    plots.idsw_per_sequence(folder / f"{prefix}idsw_per_sequence.png", names,
                            {t: {s: seqs[s]["idsw"][t] for s in names} for t in result["trackers"]}, baseline, runs)
    deltas = {t: [seqs[s]["idsw_delta"][t] for s in names] for t in compared}
    per_run = {t: [list(seqs[s]["idsw_delta_runs"][t].values()) for s in names] for t in compared}
    for var, fname, title in (
        (compare.GAP_VARIABLE, "idsw_delta_vs_gaps.png", "IDSW delta vs detection gaps"),
        (compare.CROWDING_VARIABLE, "idsw_delta_vs_crowding.png", "IDSW delta vs crowding"),
    ):
        group, key, label = compare.VARIABLES[var]
        plots.delta_scatter(
            folder / f"{prefix}{fname}", [seqs[s][group][key] for s in names], deltas,
            {t: result["correlations"][t][var]["pearson"]["r"] for t in compared}, xlabel=label,
            title=f"{title} ({prefix.rstrip('_')})" if prefix else title, baseline=baseline, runs=per_run,
        )  # fmt: skip
    seq = worst["sequence"]
    sub = (f"largest |IDSW delta| ({worst['tracker']}: {worst['idsw_delta']:+g}; switches of {worst['run']})"
           if worst["tracker"] else f"most switches ({worst['run']})")
    plots.switch_timeline(folder / f"{prefix}timeline_worst.png", seq, counts[seq], worst["switch_frames"], subtitle=sub)


@dataclass(frozen=True)
class VerdictPaths:
    """Where the comparison goes: the table (CSV, Markdown), the analysis JSON, the plots folder."""

    csv: Path
    md: Path
    json: Path
    plots_dir: Path


def load_docs(src: SourceRuns, names: list[str], ecfg: EvaluationConfig) -> dict[str, dict[tuple, dict]]:
    """Every run's metrics JSON, ``[tracker][(draw, seed)]``, checked against its tracker and the seqmap."""
    docs = {t: {k: compare.load_metrics(r.metrics, t, names) for k, r in src.runs[t].items()} for t in src.trackers}
    for t, per in docs.items():
        for m in per.values():
            if m.get("params", {}).get("iou_threshold", ecfg.iou_threshold) != ecfg.iou_threshold:
                log.warning("%s metrics used iou_threshold %s, the analysis uses %s", t, m["params"]["iou_threshold"],
                            ecfg.iou_threshold)
    return docs


def worst_run(src: SourceRuns, docs: dict, result: dict, names: list[str], mot_dir: Path, ecfg: EvaluationConfig) -> dict:
    """The sequence with the largest mean |IDSW delta| and, per tracker, the frames of its first
    run's switches there (first draw, first seed)."""
    seq, tracker = compare.worst_sequence(result, names)
    frames = switch_frames(mot_dir, {t: src.first(t).results for t in src.trackers}, seq, ecfg)
    for t, got in frames.items():
        first = src.first(t)
        want = docs[t][first.key]["sequences"][seq]["IDSW"]
        if len(got) != want:
            log.warning("%s: %d switches re-evaluated in %s, %d in its metrics JSON (different evaluation params?)",
                        t, len(got), seq, want)
    first = src.first(src.trackers[0])
    return {"sequence": seq, "tracker": tracker,
            "idsw_delta": result["sequences"][seq]["idsw_delta"].get(tracker, 0) if tracker else 0,
            "run": aggregate.run_label(first.draw, src.seeds[tracker or src.trackers[0]][0]), "switch_frames": frames}


def compare_source(src: SourceRuns, names: list[str], mot_dir: Path, cfg: compare.CompareConfig,
                   ecfg: EvaluationConfig) -> tuple[list[dict], dict, dict]:
    """Rows, analysis (validity, statistics, per class, worst sequence) and GT counts of one source."""
    docs = load_docs(src, names, ecfg)
    rows = [{"source": src.source, **r} for r in aggregate.run_rows(src, docs, cfg.baseline, names)]
    per_draw = []
    for dets in src.dets().values():
        explanatory, counts = explanatory_variables(mot_dir, dets, names, ecfg)
        per_draw.append(explanatory)
    means = aggregate.mean_docs(src, docs, names)
    result = compare.analysis(means, src.trackers, cfg.baseline, names, aggregate.mean_explanatory(per_draw, names),
                              cfg, aggregate.delta_runs(src, docs, cfg.baseline, names))
    for s in names:
        result["sequences"][s]["idsw_runs"] = {t: means[t]["idsw_runs"][s] for t in src.trackers}
    result.update(
        overall={t: means[t]["overall"] for t in src.trackers}, n_runs={t: len(src.runs[t]) for t in src.trackers},
        draws=src.draws, seeds=src.seeds, runs=aggregate.run_table(src, docs), weighting=WEIGHTING_NOTE,
        statistics=aggregate.statistics(src, docs, cfg.baseline, names, cfg), min_class_idsw=cfg.min_class_idsw,
        classes=aggregate.class_statistics(src, docs, cfg.baseline, names, cfg),
        floor=cfg.floor if cfg.floor in src.trackers else None,
    )  # fmt: skip
    result["worst_sequence"] = worst_run(src, docs, result, names, mot_dir, ecfg)
    return rows, result, counts


def read_settings(results: Path) -> dict[str, Any] | None:
    """What ``run_tracker`` recorded in its output folder: the settings used and where they came from."""
    from nuscmot.tracking.run import SETTINGS_FILE

    path = results / SETTINGS_FILE
    return read_json(path, "tracking settings") if path.is_file() else None


def settings_by_run(src: SourceRuns) -> dict[str, dict[str, Any]]:
    """Per tracker the recorded settings of its runs, runs with identical settings merged
    (``{label: settings}``, label ``all N runs`` where they all agree)."""
    import json

    out = {}
    for t in src.trackers:
        groups: dict[str, list] = {}
        for (d, s), run in src.runs[t].items():
            used = read_settings(run.results)
            groups.setdefault(json.dumps(used, sort_keys=True), []).append((aggregate.run_label(d, s), used))
        n = len(src.runs[t])
        out[t] = {("all runs" if n == 1 else f"all {n} runs") if len(groups) == 1 else "; ".join(l for l, _ in g): g[0][1]
                  for g in groups.values()}
    return out


def ego_table(src: SourceRuns, flipped: list[Run], names: list[str]) -> dict[str, dict[str, Any]]:
    """Per tracker and flipped run: overall IDSW/MOTA/IDF1 with ego-motion compensation off and
    on (the same settings otherwise), from the main run of the same draw and seed and the flipped one."""
    out: dict[str, dict[str, Any]] = {}
    for f in flipped:
        main = src.runs.get(f.tracker, {}).get(f.key)
        if main is None:
            raise InputError("--ego-runs", f"{f.source}: no main run of tracker {f.tracker}, draw {f.draw}, seed {f.seed}")
        row = {}
        for run in (main, f):
            used = read_settings(run.results) or {}
            state = "on" if (used.get("association") or {}).get("ego_compensation") else "off"
            overall = compare.load_metrics(run.metrics, f.tracker, names)["overall"]
            row[state] = {m: overall[m] for m in ("IDSW", "MOTA", "IDF1")}
        if set(row) != {"on", "off"}:
            raise InputError(f.results, "the flipped run did not flip ego_compensation (settings.json)")
        out.setdefault(f.tracker, {})[aggregate.run_label(f.draw, f.seed)] = row
    return out


def compare_idsw(cfg: compare.CompareConfig, ecfg: EvaluationConfig, runs: list[Run], ego_runs: list[Run],
                 mot_dir: Path, names: list[str], out: VerdictPaths) -> dict[str, Any]:
    """The comparison of every source (table, JSON, Markdown, plots) from its runs; ``ego_runs``:
    runs with ego_compensation flipped (empty: no on/off table)."""
    groups = group_runs(runs)
    if not groups:
        raise InputError("--runs", "no runs to compare")
    for src in groups:
        if cfg.baseline not in src.trackers:
            raise InputError("compare", f"baseline {cfg.baseline!r} is not one of the trackers of {src.source} "
                                        f"({', '.join(src.trackers)})", key="baseline")
    sections, rows, doc = {}, [], {}
    with atomic_dir(out.plots_dir) as folder:
        for src in groups:
            src_rows, result, counts = compare_source(src, names, mot_dir, cfg, ecfg)
            result["settings"] = settings_by_run(src)
            flipped = [r for r in ego_runs if r.source == src.source]
            if flipped:
                result["ego_compensation"] = ego_table(src, flipped, names)
            draw_plots(folder, f"{src.source}_", result, names, counts, result["worst_sequence"])
            sections[src.source] = result
            rows += src_rows
            doc[src.source] = result
    doc["params"] = {"compare": dataclasses.asdict(cfg), "evaluation": dataclasses.asdict(ecfg),
                     "sources": list(sections)}  # the runs' order (the JSON's keys are sorted)
    md = markdown.markdown_sources(sections, names, iou_threshold=ecfg.iou_threshold, min_visibility=ecfg.min_visibility)
    write_table(out.csv, rows)
    write_json(out.json, doc)
    write_text(out.md, md)
    for source, result in sections.items():
        log.info("%s: compared %s on %d sequences (%s)", source, ", ".join(result["trackers"]), len(names),
                 "meaningful" if result["meaningful"] else f"not meaningful: {result['reason']}")
    return doc
