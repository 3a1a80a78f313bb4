"""The verdict: IDSW of every tracker against the baseline, and what explains the difference.

Writes the comparison table (CSV and Markdown), ``idsw_paradox_analysis.json`` (per-sequence
IDSW delta with detection gaps and crowding, and their Pearson/Spearman correlations), and
the figures (a folder of PNGs, swapped into place when complete), for every detection source the
trackers ran on (the detector's output and GT-derived detections): one section of the table and
one key of the JSON each, each saying whether its verdict is meaningful (enough detection recall,
enough baseline switches) and why not.

    python -m nuscmot.compare_idsw --params '{"cfg": <compare>, "evaluation": <evaluation>}' \
        --sources detector gt --trackers kalman trackssm \
        --metrics DK.json DT.json GK.json GT.json --results DIR DIR DIR DIR --dets-dir DIR DIR \
        --mot-dir DIR --seqmap F --out-csv F --out-md F --out-json F --plots-dir DIR
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, write_csv, write_json, write_text
from nuscmot.common.mot import read_seqmap
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


def source_inputs(args: argparse.Namespace, trackers: list[str]) -> list[SourceInputs]:
    """Split the flat ``--metrics``/``--results`` lists (source-major) into one group per source."""
    sources = list(args.sources)
    if len(set(sources)) != len(sources):
        raise InputError("--sources", f"duplicate source names: {' '.join(sources)}")
    n = len(trackers) * len(sources)
    for flag, values in (("--metrics", args.metrics), ("--results", args.results)):
        if len(values) != n:
            raise InputError(flag, f"expected {n} paths (one per source and tracker, source-major), got {len(values)}")
    if len(args.dets_dir) != len(sources):
        raise InputError("--dets-dir", f"expected {len(sources)} folders (one per source), got {len(args.dets_dir)}")
    k = len(trackers)
    return [SourceInputs(s, dict(zip(trackers, args.metrics[i * k:(i + 1) * k])),
                         dict(zip(trackers, args.results[i * k:(i + 1) * k])), args.dets_dir[i])
            for i, s in enumerate(sources)]


def flipped_runs(args: argparse.Namespace, trackers: list[str], sources: list[str]) -> dict:
    """``{source: {tracker: (metrics, results)}}`` of the runs with ego_compensation flipped."""
    if not args.ego_metrics and not args.ego_results:
        return {}
    n = len(trackers) * len(sources)
    for flag, values in (("--ego-metrics", args.ego_metrics), ("--ego-results", args.ego_results)):
        if len(values) != n:
            raise InputError(flag, f"expected {n} paths (one per source and tracker, source-major), got {len(values)}")
    pairs = iter(zip(args.ego_metrics, args.ego_results))
    return {s: {t: next(pairs) for t in trackers} for s in sources}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = cli.parser("Compare trackers' identity switches and explain the difference.")
    p.add_argument("--sources", nargs="+", default=["detector"],
                   help="detection sources the trackers ran on (detector, gt)")
    p.add_argument("--trackers", required=True, nargs="+")
    p.add_argument("--metrics", required=True, nargs="+", type=Path,
                   help="metrics JSON per source and tracker (source-major, trackers in --trackers order)")
    p.add_argument("--results", required=True, nargs="+", type=Path, help="results folder per source and tracker, same order")
    p.add_argument("--dets-dir", required=True, nargs="+", type=Path, help="detections per source, --sources order")
    p.add_argument("--mot-dir", required=True, type=Path)
    p.add_argument("--seqmap", required=True, type=Path)
    p.add_argument("--out-csv", required=True, type=Path)
    p.add_argument("--out-md", required=True, type=Path)
    p.add_argument("--out-json", required=True, type=Path)
    p.add_argument("--plots-dir", required=True, type=Path)
    p.add_argument("--ego-metrics", nargs="*", type=Path, default=[],
                   help="metrics JSON with ego_compensation flipped, per source and tracker (source-major)")
    p.add_argument("--ego-results", nargs="*", type=Path, default=[], help="their results folders, same order")
    return p.parse_args(argv)


def read_settings(results: Path) -> dict[str, Any] | None:
    """What ``track`` recorded in its output folder: the settings used and where they came from."""
    from nuscmot.common.io import read_json
    from nuscmot.track import SETTINGS_FILE

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


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    params = cli.load_params(args.params)
    unknown = sorted(set(params) - {"cfg", "evaluation"})
    if unknown:
        raise InputError("--params", f"unknown key(s) {', '.join(unknown)} (expected cfg, evaluation)")
    cfg = from_dict(compare.CompareConfig, params.get("cfg"), where="compare")
    ecfg = from_dict(EvaluationConfig, params.get("evaluation"), where="evaluation")
    trackers = list(args.trackers)
    if len(set(trackers)) != len(trackers):
        raise InputError("--trackers", f"duplicate tracker names: {' '.join(trackers)}")
    groups = source_inputs(args, trackers)
    if cfg.baseline not in trackers:
        raise InputError("compare", f"baseline {cfg.baseline!r} is not one of the trackers ({', '.join(trackers)})", key="baseline")
    names = read_seqmap(args.seqmap)
    if not names:
        raise InputError(args.seqmap, "seqmap lists no sequences")

    flips = flipped_runs(args, trackers, [g.source for g in groups])
    sections, rows, doc = {}, [], {}
    with atomic_dir(args.plots_dir) as folder:
        for src in groups:
            src_rows, result, counts = compare_source(src, trackers, names, args.mot_dir, cfg, ecfg)
            result["settings"] = {t: read_settings(src.results[t]) for t in trackers}
            if flips:
                result["ego_compensation"] = ego_table(src, trackers, flips[src.source], names)
            draw_plots(folder, f"{src.source}_", result, names, counts, result["worst_sequence"])
            sections[src.source] = ([{k: v for k, v in r.items() if k != "source"} for r in src_rows], result)
            rows += src_rows
            doc[src.source] = result
    doc["params"] = {"compare": dataclasses.asdict(cfg), "evaluation": dataclasses.asdict(ecfg)}
    md = compare.markdown_sources(sections, names, iou_threshold=ecfg.iou_threshold, min_visibility=ecfg.min_visibility)
    write_table(args.out_csv, rows)
    write_json(args.out_json, doc)
    write_text(args.out_md, md)
    for source, (_, result) in sections.items():
        log.info("%s: compared %s on %d sequences (%s)", source, ", ".join(trackers), len(names),
                 "meaningful" if result["meaningful"] else f"not meaningful: {result['reason']}")


if __name__ == "__main__":
    cli.run(main)
