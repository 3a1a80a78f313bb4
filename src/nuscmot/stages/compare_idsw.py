"""The verdict: every tracker against the baseline, how sure it is, and what explains the difference.

Writes the comparison table (CSV, one row per run and sequence; Markdown), ``idsw_paradox_analysis.json``
(paired statistics with intervals and p per metric and class, per-sequence IDSW delta with detection
gaps and crowding and their correlations) and the figures (a folder of PNGs, swapped into place when
complete), for every detection source the trackers ran on: one section of the table and one key of
the JSON each, each saying whether its verdict is meaningful (enough detection recall, enough
baseline switches) and why not.

    python -m nuscmot.stages.compare_idsw --params '{"cfg": <compare>, "evaluation": <evaluation>}' \\
        --runs '<JSON list>' [--ego-runs '<JSON list>'] --mot-dir DIR --seqmap F \\
        --out-csv F --out-md F --out-json F --plots-dir DIR

A run: ``{"source": "detector"|"gt"|..., "draw": int|null, "tracker": "kalman"|"trackssm"|...,
"seed": int|null, "metrics": <evaluate_tracker JSON>, "results": <tracking results folder>,
"dets": <detections folder of that source and draw>}`` (``draw``: the GT-degradation seed, null
for a source with one set of detections; ``seed``: a trained tracker's training seed, null for a
deterministic one). ``--ego-runs``: the runs with ego_compensation flipped (any subset).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.mot import read_seqmap
from nuscmot.evaluation.compare import CompareConfig
from nuscmot.evaluation.metrics import EvaluationConfig
from nuscmot.evaluation.runs import parse_runs
from nuscmot.evaluation.verdict import VerdictPaths, compare_idsw

SLICES = {"compare": CompareConfig, "evaluation": EvaluationConfig}


def parse_args(argv: Sequence[str] | None):
    p = cli.parser("Compare trackers' identity switches, with intervals and p, and explain the difference.")
    p.add_argument("--runs", required=True, help="JSON list of runs (source, draw, tracker, seed, metrics, results, dets)")
    p.add_argument("--ego-runs", default=None, help="JSON list of the runs with ego_compensation flipped (same fields)")
    p.add_argument("--mot-dir", required=True, type=Path)
    p.add_argument("--seqmap", required=True, type=Path)
    p.add_argument("--out-csv", required=True, type=Path)
    p.add_argument("--out-md", required=True, type=Path)
    p.add_argument("--out-json", required=True, type=Path)
    p.add_argument("--plots-dir", required=True, type=Path)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    params = cli.load_params(args.params)
    unknown = sorted(set(params) - {"cfg", "evaluation"})
    if unknown:
        raise InputError("--params", f"unknown key(s) {', '.join(unknown)} (expected cfg, evaluation)")
    cfg = from_dict(CompareConfig, params.get("cfg"), where="compare")
    ecfg = from_dict(EvaluationConfig, params.get("evaluation"), where="evaluation")
    runs, ego_runs = parse_runs(args.runs, "--runs"), parse_runs(args.ego_runs, "--ego-runs")
    names = read_seqmap(args.seqmap)
    if not names:
        raise InputError(args.seqmap, "seqmap lists no sequences")
    out = VerdictPaths(args.out_csv, args.out_md, args.out_json, args.plots_dir)
    compare_idsw(cfg, ecfg, runs, ego_runs, args.mot_dir, names, out)


if __name__ == "__main__":
    cli.run(main)
