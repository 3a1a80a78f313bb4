"""Compare a baseline detection source with a fine-tuned one on the test sequences.

    python -m nuscmot.stages.finetune_effect \\
        --params '{"cfg": <finetune_effect>, "compare": <compare>, "evaluation": <evaluation>}' \\
        --runs '<JSON list>' --coco-test results/coco/test_front.json --mot-dir results/mot/test \\
        --seqmap results/mot/seqmaps/test.txt --out-md results/finetune_effect.md \\
        --out-json results/finetune_effect.json --plots-dir results/plots/finetune_effect

``--runs``: compare_idsw's run format (``{"source", "draw", "tracker", "seed", "metrics",
"results", "dets"}``) for the runs of the two sources (``finetune_effect.baseline`` and
``.finetuned``), each with ``draw`` null. Writes detection recall, AP@0.5 / AR@100, gaps,
crowded/sparse recall, IDSW/MOTA/IDF1 per tracker and the TrackSSM-minus-Kalman difference per
source, every change with paired per-sequence statistics, and the expected-vs-measured table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.evaluation.compare import CompareConfig
from nuscmot.evaluation.finetune_config import FinetuneEffectConfig
from nuscmot.evaluation.metrics import EvaluationConfig

SLICES = {"finetune_effect": FinetuneEffectConfig, "compare": CompareConfig, "evaluation": EvaluationConfig}
PARAM_KEYS = ("cfg", "compare", "evaluation")


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--runs", required=True, help="JSON list of runs (source, draw, tracker, seed, metrics, results, dets)")
    for name in ("coco-test", "mot-dir", "seqmap", "out-md", "out-json", "plots-dir"):
        p.add_argument(f"--{name}", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    unknown = sorted(set(params) - set(PARAM_KEYS))
    if unknown:
        raise InputError("--params", f"unknown key(s) {', '.join(unknown)} (expected {', '.join(PARAM_KEYS)})")
    cfg = from_dict(FinetuneEffectConfig, params.get("cfg"), where="finetune_effect")
    ccfg = from_dict(CompareConfig, params.get("compare"), where="compare")
    ecfg = from_dict(EvaluationConfig, params.get("evaluation"), where="evaluation")

    from nuscmot.evaluation.finetune_effect import FinetunePaths, finetune_effect
    from nuscmot.evaluation.runs import parse_runs

    paths = FinetunePaths(args.coco_test, args.mot_dir, args.seqmap, args.out_md, args.out_json, args.plots_dir)
    finetune_effect(cfg, ccfg, ecfg, parse_runs(args.runs, "--runs"), paths)


if __name__ == "__main__":
    cli.run(main)
