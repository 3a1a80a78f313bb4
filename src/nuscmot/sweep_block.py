"""Evaluate every sweep cell of one motion model on one detection source of the tuning split.

    python -m nuscmot.sweep_block --params '{"cfg": <association>, "motion": <motion>, "evaluation": ...,
        "cells": [{"name": ..., "values": {...}}, ...]}' --tracker kalman|trackssm --source detector|gt \
        --dets-dir DIR --mot-dir results/mot/tune --seqmap results/mot/seqmaps/tune.txt \
        --splits results/splits.json [--model F] --out F.json

Refuses a seqmap with any test scene (``--splits``) before reading a sequence: tuning never
touches the test split. See :mod:`nuscmot.sweep.block`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.errors import InputError
from nuscmot.common.io import write_json
from nuscmot.common.mot import read_seqmap

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--tracker", required=True, choices=("kalman", "trackssm"))
    p.add_argument("--source", required=True, help="detection source (recorded in the output)")
    for name in ("dets-dir", "mot-dir", "seqmap", "splits", "out"):
        p.add_argument(f"--{name}", required=True, type=Path)
    p.add_argument("--model", default=None, help="TrackSSM checkpoint (trackssm only)")
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    unknown = sorted(set(params) - {"cfg", "motion", "evaluation", "cells", "score_transform"})
    if unknown:
        raise InputError("--params", f"unknown key(s) {', '.join(unknown)}")
    if not isinstance(params.get("cells"), list) or not params["cells"]:
        raise InputError("--params", "needs 'cells': a non-empty list of grid cells", key="cells")
    names = read_seqmap(args.seqmap)
    if not names:
        raise InputError(args.seqmap, "seqmap lists no sequences")

    from nuscmot.sweep.block import check_tuning_split, run_block

    check_tuning_split(names, args.splits, args.seqmap)
    t0 = time.perf_counter()
    rows = run_block(args.tracker, params, args.model, names, args.mot_dir, args.dets_dir)
    write_json(args.out, {"tracker": args.tracker, "source": args.source, "split": "tune", "sequences": names,
                          "rows": rows})
    log.info("%s on %s: %d cells on %d tuning sequences in %.1f s", args.tracker, args.source, len(rows), len(names),
             time.perf_counter() - t0)


if __name__ == "__main__":
    cli.run(main)
