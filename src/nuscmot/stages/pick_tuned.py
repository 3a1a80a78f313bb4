"""Pick the tuned cell of one tracker run on one detection source from its sweep block.

    python -m nuscmot.stages.pick_tuned --params '{"cfg": <sweep slice>, "trackers": [...]}' \
        --block results/sweep/<source>/<run>.json --out results/sweep/tuned/<source>/<run>.json

The output has best.json's form (what ``run_tracker --tuned`` reads), for this run alone: a
change that re-tunes one model never touches another model's tracking jobs. Its ``split`` is the
tuning seqmap's name the block records (``tune``, ``MOT17-train-half``), which ``run_tracker``
writes into the run's origin (``tuned on <split> (<cell>)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.sweep.summary import SweepConfig

SLICES = {"sweep": SweepConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--block", required=True, type=Path, help="the run's sweep_block output")
    p.add_argument("--out", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    cfg = from_dict(SweepConfig, params.get("cfg"), where="sweep")
    from nuscmot.sweep.tuning import pick_tuned

    pick_tuned(cfg, cli.tracker_names(params), args.block, args.out)


if __name__ == "__main__":
    cli.run(main)
