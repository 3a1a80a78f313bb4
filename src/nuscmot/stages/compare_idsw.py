"""The verdict: IDSW of every tracker against the baseline, and what explains the difference.

Writes the comparison table (CSV and Markdown), ``idsw_paradox_analysis.json`` (per-sequence
IDSW delta with detection gaps and crowding, and their Pearson/Spearman correlations), and
the figures (a folder of PNGs, swapped into place when complete), for every detection source the
trackers ran on (the detector's output and GT-derived detections): one section of the table and
one key of the JSON each, each saying whether its verdict is meaningful (enough detection recall,
enough baseline switches) and why not.

    python -m nuscmot.stages.compare_idsw --params '{"cfg": <compare>, "evaluation": <evaluation>}' \
        --sources detector gt --trackers kalman trackssm \
        --metrics DK.json DT.json GK.json GT.json --results DIR DIR DIR DIR --dets-dir DIR DIR \
        --mot-dir DIR --seqmap F --out-csv F --out-md F --out-json F --plots-dir DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.mot import read_seqmap
from nuscmot.evaluation.compare import CompareConfig
from nuscmot.evaluation.metrics import EvaluationConfig
from nuscmot.evaluation.verdict import SourceInputs, VerdictPaths, compare_idsw

SLICES = {"compare": CompareConfig, "evaluation": EvaluationConfig}


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


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    params = cli.load_params(args.params)
    unknown = sorted(set(params) - {"cfg", "evaluation"})
    if unknown:
        raise InputError("--params", f"unknown key(s) {', '.join(unknown)} (expected cfg, evaluation)")
    cfg = from_dict(CompareConfig, params.get("cfg"), where="compare")
    ecfg = from_dict(EvaluationConfig, params.get("evaluation"), where="evaluation")
    trackers = list(args.trackers)
    if len(set(trackers)) != len(trackers):
        raise InputError("--trackers", f"duplicate tracker names: {' '.join(trackers)}")
    groups = source_inputs(args, trackers)
    names = read_seqmap(args.seqmap)
    if not names:
        raise InputError(args.seqmap, "seqmap lists no sequences")
    flips = flipped_runs(args, trackers, [g.source for g in groups])
    out = VerdictPaths(args.out_csv, args.out_md, args.out_json, args.plots_dir)
    compare_idsw(cfg, ecfg, trackers, groups, flips, args.mot_dir, names, out)


if __name__ == "__main__":
    cli.run(main)
