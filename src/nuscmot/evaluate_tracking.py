"""Evaluate one tracker's results on every test sequence: motmetrics CLEAR/ID metrics + HOTA.

Writes a CSV (one row per sequence, then OVERALL) and a JSON with the same numbers, the
parameters and the IDSW convention (see :mod:`nuscmot.evaluation.metrics`).

    python -m nuscmot.evaluate_tracking --params '<evaluation slice>' --tracker NAME \
        --results DIR --mot-dir DIR --seqmap F --out-csv F --out-json F
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.io import write_csv, write_json
from nuscmot.common.mot import read_seqmap
from nuscmot.evaluation.metrics import (
    COLUMN_HELP,
    COLUMNS,
    IDSW_CONVENTION,
    EvaluationConfig,
    evaluate_many,
)
from nuscmot.evaluation.sequences import load_gt, load_results

log = logging.getLogger(__name__)


def evaluate_tracker(results_dir: Path, mot_dir: Path, names: list[str], cfg: EvaluationConfig):
    """Per-sequence + OVERALL rows (dicts keyed by ``COLUMNS``) and the per-sequence evaluations."""

    def load(name: str):
        gt = load_gt(mot_dir, name)
        return gt.rows, load_results(results_dir, name, gt.length), gt.length

    return evaluate_many(names, load, cfg)


def write_metrics_csv(path: Path, rows: dict[str, dict[str, Any]]) -> None:
    write_csv(path, COLUMNS, ([row[c] for c in COLUMNS] for row in rows.values()))


def report(tracker: str, cfg: EvaluationConfig, rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "tracker": tracker,
        "params": dataclasses.asdict(cfg),
        "idsw_convention": IDSW_CONVENTION,
        "columns": {c: COLUMN_HELP[c] for c in COLUMNS if c != "sequence"},
        "sequences": {name: row for name, row in rows.items() if name != "OVERALL"},
        "overall": rows["OVERALL"],
    }


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser("Evaluate one tracker (motmetrics + TrackEval HOTA) on every test sequence.")
    p.add_argument("--tracker", required=True, help="tracker name (recorded in the JSON)")
    p.add_argument("--results", required=True, type=Path, help="folder with <sequence>.txt results")
    p.add_argument("--mot-dir", required=True, type=Path, help="MOT GT folder (<seq>/gt/gt.txt, seqinfo.ini)")
    p.add_argument("--seqmap", required=True, type=Path)
    p.add_argument("--out-csv", required=True, type=Path)
    p.add_argument("--out-json", required=True, type=Path)
    args = p.parse_args(argv)

    cfg = from_dict(EvaluationConfig, cli.load_params(args.params), where="evaluation")
    names = read_seqmap(args.seqmap)
    if not names:
        raise InputError(args.seqmap, "seqmap lists no sequences")
    if "OVERALL" in names:
        raise InputError(args.seqmap, "a sequence must not be named OVERALL (the name of the summary row)")
    if not args.results.is_dir():
        raise InputError(args.results, "results folder does not exist")
    extra = sorted(f.stem for f in args.results.glob("*.txt") if f.stem not in set(names))
    if extra:
        log.warning("ignoring %d result file(s) not in the seqmap: %s", len(extra), ", ".join(extra[:5]))

    rows, _ = evaluate_tracker(args.results, args.mot_dir, names, cfg)
    write_metrics_csv(args.out_csv, rows)
    write_json(args.out_json, report(args.tracker, cfg, rows))
    o = rows["OVERALL"]
    log.info(
        "%s: IDSW %s (TrackEval %s) MOTA %.3f IDF1 %.3f HOTA %.3f over %d sequences",
        args.tracker, o["IDSW"], o["IDSW_trackeval"], o["MOTA"] or 0.0, o["IDF1"] or 0.0, o["HOTA"], len(names),
    )  # fmt: skip


if __name__ == "__main__":
    cli.run(main)
