"""Summarise a sweep on the tuning split: one row per (source, tracker, cell), the best cell per
source and motion model with its full settings (``best.json``, read by ``run_tracker --tuned``), IDSW
heatmaps per pair of a model's grid keys.

Each block is a ``sweep_block`` output (every cell of one motion model on one detection source);
``best.json``'s ``split`` is the tuning seqmap's name they all record (blocks tuned on different
seqmaps are refused).

    python -m nuscmot.stages.sweep_tracking --params '{"cfg": <sweep slice>, "trackers": [...]
        [, "notes": ["what the workflow left out of the grid, and why"]]}' \
        --blocks F [F ...] --out-csv F --out-best F --heatmaps-dir DIR
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.sweep.summary import SweepConfig

SLICES = {"sweep": SweepConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser("Summarise a sweep: table, best cell per source and motion model, IDSW heatmaps.")
    p.add_argument("--blocks", required=True, nargs="+", type=Path, help="every sweep_block output")
    p.add_argument("--out-csv", required=True, type=Path)
    p.add_argument("--out-best", required=True, type=Path)
    p.add_argument("--heatmaps-dir", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    cfg = from_dict(SweepConfig, params.get("cfg"), where="sweep")

    from nuscmot.sweep.tuning import summarise_sweep

    notes = params.get("notes") or []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise InputError("--params", f"notes must be a list of strings, got {notes!r}", key="notes")
    summarise_sweep(cfg, cli.tracker_names(params), args.blocks, args.out_csv, args.out_best, args.heatmaps_dir,
                    notes=notes)


if __name__ == "__main__":
    cli.run(main)
