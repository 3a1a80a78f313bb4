"""Every identity switch of every tracker run on one detection source, one CSV per run.

    python -m nuscmot.stages.switches --params '<evaluation slice>' --runs '{"kalman": DIR, ...}' \\
        --baseline kalman --mot-dir DIR --seqmap F --out-dir DIR

Writes ``<out-dir>/<tracker run>.csv`` (:mod:`nuscmot.evaluation.switches`: sequence, frame, GT
id, class, instance token, previous and new track id, frames since the last match, visibility,
whether the other tracker switched on the same object within 2 frames).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.mot import read_seqmap
from nuscmot.evaluation.metrics import EvaluationConfig

SLICES = {"evaluation": EvaluationConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser("Every identity switch of every tracker run on one detection source.")
    p.add_argument("--runs", required=True, help='JSON {"<tracker run>": "<results folder>"}')
    p.add_argument("--baseline", required=True, help="the baseline motion model (compare.baseline)")
    p.add_argument("--mot-dir", required=True, type=Path)
    p.add_argument("--seqmap", required=True, type=Path)
    p.add_argument("--out-dir", required=True, type=Path)
    args = p.parse_args(argv)
    cfg = from_dict(EvaluationConfig, cli.load_params(args.params), where="evaluation")
    runs = cli.json_arg(args.runs, "--runs")
    if not isinstance(runs, dict) or not all(isinstance(v, str) and v for v in runs.values()):
        raise InputError("--runs", "not a JSON object of run -> folder")
    runs = {k: Path(v) for k, v in runs.items()}

    from nuscmot.evaluation.switches import write_switches

    write_switches(runs, args.baseline, args.mot_dir, read_seqmap(args.seqmap), cfg, args.out_dir)


if __name__ == "__main__":
    cli.run(main)
