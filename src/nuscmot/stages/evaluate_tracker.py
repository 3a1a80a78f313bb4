"""Evaluate one tracker's results on every test sequence: motmetrics CLEAR/ID metrics + HOTA.

Writes a CSV (one row per sequence, then OVERALL) and a JSON with the same numbers, the
parameters and the IDSW convention (see :mod:`nuscmot.evaluation.metrics`).

    python -m nuscmot.stages.evaluate_tracker --params '<evaluation slice>' --tracker NAME \
        --results DIR --mot-dir DIR --seqmap F --out-csv F --out-json F [--classes '["car", ...]']

``--classes``: the names of the class ids 1..N of the per-class table (the dataset's classes:
nuScenes' seven by default, ``dataset.mot.classes`` for MOTChallenge-layout data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.evaluation.metrics import EvaluationConfig

SLICES = {"evaluation": EvaluationConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser("Evaluate one tracker (motmetrics + TrackEval HOTA) on every test sequence.")
    p.add_argument("--tracker", required=True, help="tracker name (recorded in the JSON)")
    p.add_argument("--results", required=True, type=Path, help="folder with <sequence>.txt results")
    p.add_argument("--mot-dir", required=True, type=Path, help="MOT GT folder (<seq>/gt/gt.txt, seqinfo.ini)")
    p.add_argument("--seqmap", required=True, type=Path)
    p.add_argument("--out-csv", required=True, type=Path)
    p.add_argument("--out-json", required=True, type=Path)
    p.add_argument("--classes", default=None, help="JSON list: the names of class ids 1..N (default: nuScenes' seven)")
    args = p.parse_args(argv)
    cfg = from_dict(EvaluationConfig, cli.load_params(args.params), where="evaluation")

    from nuscmot.evaluation.tracker_metrics import write_tracker_metrics

    classes = class_names(None if args.classes is None else cli.json_arg(args.classes, "--classes"))
    write_tracker_metrics(args.tracker, cfg, args.results, args.mot_dir, args.seqmap, args.out_csv, args.out_json,
                          classes)


def class_names(value: object) -> tuple[str, ...]:
    """``--classes``: a non-empty list of distinct non-empty names (default nuScenes' classes)."""
    from nuscmot.data.classes import CLASSES

    if value is None:
        return tuple(CLASSES)
    if (not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value)
            or len(set(value)) != len(value)):
        raise InputError("--classes", f"must be a JSON list of distinct class names, got {value!r}")
    return tuple(value)


if __name__ == "__main__":
    cli.run(main)
