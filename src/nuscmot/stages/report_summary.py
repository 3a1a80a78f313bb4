"""The report's first page: the verdict of every detection source, then the detector, TrackSSM
and the switches (:mod:`nuscmot.report.summary`).

    python -m nuscmot.stages.report_summary --params '{"trackssm": {"<seed>": {"training": F, "heldout": F}}}' \\
        --compare-json idsw_paradox_analysis.json --detector-json metrics.json --detector-plots DIR \\
        --gallery DIR --gif F --out-html summary.html --out-fragment verdict.html
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.errors import InputError

SLICES: dict[str, type] = {}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser("The report's first page: the verdict, the detector, TrackSSM and the switches.")
    for name in ("compare-json", "detector-json", "detector-plots", "gallery", "gif", "out-html", "out-fragment"):
        p.add_argument(f"--{name}", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    if set(params) != {"trackssm"}:
        raise InputError("--params", 'expected {"trackssm": {"<seed>": {"training": ..., "heldout": ...}}}')
    trackssm = {str(s): {k: Path(v) for k, v in files.items()} for s, files in params["trackssm"].items()}

    from nuscmot.report.summary import write_summary

    write_summary(args.compare_json, args.detector_json, args.detector_plots, trackssm, args.gallery, args.gif,
                  args.out_html, args.out_fragment)


if __name__ == "__main__":
    cli.run(main)
