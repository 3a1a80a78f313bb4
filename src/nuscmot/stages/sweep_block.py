"""Evaluate every sweep cell of one motion model on one detection source of the tuning split.

    python -m nuscmot.stages.sweep_block --params '{"cfg": <association>, "motion": <motion>, "evaluation": ...,
        "cells": [{"name": ..., "values": {...}}, ...]}' --tracker kalman|trackssm --source detector|gt \
        --dets-dir DIR --mot-dir results/mot/tune --seqmap results/mot/seqmaps/tune.txt \
        --test-seqmap results/mot/seqmaps/test.txt [--splits results/splits.json] \
        [--model F] [--run trackssm-s1] --out F.json

Refuses a tuning seqmap naming any test sequence (``--test-seqmap``; on nuScenes data also any
scene outside detector-val of ``--splits``) before reading a sequence: tuning never touches the
test split. See :mod:`nuscmot.sweep.block`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.errors import InputError
from nuscmot.evaluation.metrics import EvaluationConfig
from nuscmot.tracking.config import AssociationConfig
from nuscmot.tracking.kalman import KalmanConfig
from nuscmot.tracking.scores import ScoreTransform
from nuscmot.tracking.trackssm.config import TrackSSMMotionConfig

PARAM_KEYS = {"cfg", "motion", "evaluation", "cells", "score_transform"}
# the base slices every cell starts from (cells: the sweep's grid, planned from the sweep slice)
SLICES = {"tracking.association": AssociationConfig, "tracking.motion.kalman": KalmanConfig,
          "tracking.motion.trackssm": TrackSSMMotionConfig, "tracking.score_transform": ScoreTransform,
          "evaluation": EvaluationConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--tracker", required=True, choices=("kalman", "trackssm"))
    p.add_argument("--source", required=True, help="detection source (recorded in the output)")
    for name in ("dets-dir", "mot-dir", "seqmap", "test-seqmap", "out"):
        p.add_argument(f"--{name}", required=True, type=Path)
    p.add_argument("--splits", default=None, type=Path, help="splits.json of convert (nuScenes data only)")
    p.add_argument("--model", default=None, help="TrackSSM checkpoint (trackssm only)")
    p.add_argument("--run", default=None, help="the tracker run's name, e.g. trackssm-s1 (default: --tracker)")
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    unknown = sorted(set(params) - PARAM_KEYS)
    if unknown:
        raise InputError("--params", f"unknown key(s) {', '.join(unknown)}")
    if not isinstance(params.get("cells"), list) or not params["cells"]:
        raise InputError("--params", "needs 'cells': a non-empty list of grid cells", key="cells")

    from nuscmot.sweep.block import sweep_block

    sweep_block(args.tracker, args.source, params, args.model, args.seqmap, args.test_seqmap, args.mot_dir,
                args.dets_dir, args.out, run=args.run, splits=args.splits)


if __name__ == "__main__":
    cli.run(main)
