"""Evaluate every sweep cell of one motion model on one detection source of the tuning split.

    python -m nuscmot.stages.sweep_block --params '{"cfg": <association>, "motion": <motion>, "evaluation": ...,
        "cells": [{"name": ..., "values": {...}}, ...]}' --tracker kalman|trackssm|iou|... --source detector|gt \
        --dets-dir DIR --mot-dir results/mot/tune --seqmap results/mot/seqmaps/tune.txt \
        --test-seqmap results/mot/seqmaps/test.txt [--splits results/splits.json] [--model F] \
        [--run trackssm-s1] --out F.json

Refuses a tuning seqmap (``--seqmap``, any MOTChallenge-layout data) that lists any sequence of
``--test-seqmap`` before reading a sequence: tuning never touches the test split. With
``--splits`` (nuScenes data from ``convert``) every tuning sequence must also be a detector-val
scene. The block records the tuning seqmap's file stem as its split. See :mod:`nuscmot.sweep.block`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.errors import InputError
from nuscmot.evaluation.metrics import EvaluationConfig
from nuscmot.tracking.config import AssociationConfig
from nuscmot.tracking.models import motion_slices, names
from nuscmot.tracking.scores import ScoreTransform

PARAM_KEYS = {"cfg", "motion", "evaluation", "cells", "score_transform"}
# the base slices every cell starts from (cells: the sweep's grid, planned from the sweep slice)
SLICES = {"tracking.association": AssociationConfig, **motion_slices(), "tracking.score_transform": ScoreTransform,
          "evaluation": EvaluationConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--tracker", required=True, choices=names())
    p.add_argument("--source", required=True, help="detection source (recorded in the output)")
    for name in ("dets-dir", "mot-dir", "seqmap", "test-seqmap", "out"):
        p.add_argument(f"--{name}", required=True, type=Path)
    p.add_argument("--splits", default=None, type=Path, help="splits.json from convert (nuScenes): tuning "
                                                               "sequences must be detector-val scenes")
    p.add_argument("--model", default=None, help="a learned model's checkpoint (trackssm)")
    p.add_argument("--run", default=None, help="the tracker run's name, e.g. trackssm-s1 (default: --tracker)")
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    unknown = sorted(set(params) - PARAM_KEYS)
    if unknown:
        raise InputError("--params", f"unknown key(s) {', '.join(unknown)}")
    if not isinstance(params.get("cells"), list) or not params["cells"]:
        raise InputError("--params", "needs 'cells': a non-empty list of grid cells", key="cells")

    from nuscmot.sweep.block import sweep_block

    sweep_block(args.tracker, args.source, params, args.model, args.seqmap, args.test_seqmap, args.splits,
                args.mot_dir, args.dets_dir, args.out, run=args.run)


if __name__ == "__main__":
    cli.run(main)
