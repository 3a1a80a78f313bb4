"""Summarise the gap ablation: IDSW / MOTA / IDF1 vs observation drop rate, per tracker,
ego-motion compensation setting and drop mode (CSV, Markdown with the attribution and the
compensation on/off comparison, one PNG with a panel per metric).

Each metrics file is
``<ablation dir>/<mode>/drop_rate~<rate>/ego_compensation~<true|false>/metrics/<tracker>.json``
as written by ``evaluate_tracker``; every (level, setting, tracker) of the configuration
must be given.

    python -m nuscmot.stages.gap_ablation \
        --params '{"cfg": <gap_ablation slice>, "gt_detections": <slice>, "trackers": [...]}' \
        --metrics F [F ...] --out-csv F --out-md F --out-png F
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.sweep.ablation import GapAblationConfig

SLICES = {"gap_ablation": GapAblationConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser("Summarise the gap ablation: IDSW/MOTA/IDF1 vs drop rate per tracker and mode.")
    p.add_argument("--metrics", required=True, nargs="+", type=Path, help="every level's <tracker>.json")
    p.add_argument("--out-csv", required=True, type=Path)
    p.add_argument("--out-md", required=True, type=Path)
    p.add_argument("--out-png", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    cfg = from_dict(GapAblationConfig, params.get("cfg"), where="gap_ablation")

    from nuscmot.sweep.gap_report import report_gap_ablation

    report_gap_ablation(cfg, params.get("gt_detections") or {}, cli.tracker_names(params), args.metrics,
                        args.out_csv, args.out_md, args.out_png)


if __name__ == "__main__":
    cli.run(main)
