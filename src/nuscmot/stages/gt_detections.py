"""GT-derived detections with controlled degradation, one det file per test sequence.

    python -m nuscmot.stages.gt_detections --params '<gt_detections slice>' --mot-dir DIR \
        --seqmap F --out-dir DIR

Reads ``<mot-dir>/<seq>/gt/gt.txt`` and ``seqinfo.ini`` for every sequence of the seqmap and
writes ``<out-dir>/<seq>.txt`` (MOT det format). Each sequence draws from its own generator
seeded by (seed, sequence name), so a sequence's detections do not depend on the others. The
degradation itself is :func:`nuscmot.tracking.gt_detections.degrade`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.tracking.gt_detections import DegradeConfig, write_gt_detections

SLICES = {"gt_detections": DegradeConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--mot-dir", required=True, type=Path, help="MOT ground truth folder (<seq>/gt/gt.txt)")
    p.add_argument("--seqmap", required=True, type=Path, help="MOTChallenge seqmap listing the sequences")
    p.add_argument("--out-dir", required=True, type=Path, help="output folder, one <seq>.txt per sequence")
    args = p.parse_args(argv)
    cfg = from_dict(DegradeConfig, cli.load_params(args.params), where="gt_detections")
    write_gt_detections(cfg, args.mot_dir, args.seqmap, args.out_dir)


if __name__ == "__main__":
    cli.run(main)
