"""GT-derived detections with controlled degradation, one det file per test sequence.

    python -m nuscmot.gt_detections --params '<gt_detections slice>' --mot-dir DIR \
        --seqmap F --out-dir DIR

Reads ``<mot-dir>/<seq>/gt/gt.txt`` and ``seqinfo.ini`` for every sequence of the seqmap and
writes ``<out-dir>/<seq>.txt`` (MOT det format). Each sequence draws from its own generator
seeded by (seed, sequence name), so a sequence's detections do not depend on the others. The
degradation itself is :func:`nuscmot.tracking.gt_detections.degrade`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.io import atomic_dir
from nuscmot.common.mot import read_mot, read_seqinfo, read_seqmap, write_mot
from nuscmot.tracking.gt_detections import DegradeConfig, degrade, sequence_rng

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> None:
    from tqdm import tqdm

    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--mot-dir", required=True, help="MOT ground truth folder (<seq>/gt/gt.txt)")
    p.add_argument("--seqmap", required=True, help="MOTChallenge seqmap listing the sequences")
    p.add_argument("--out-dir", required=True, help="output folder, one <seq>.txt per sequence")
    args = p.parse_args(argv)
    cfg = from_dict(DegradeConfig, cli.load_params(args.params), where="gt_detections")
    mot_dir = Path(args.mot_dir)
    names = read_seqmap(args.seqmap)
    n_gt = n_det = 0
    with atomic_dir(args.out_dir) as tmp:
        for name in tqdm(names, desc="gt_detections", leave=False):
            gt = read_mot(mot_dir / name / "gt" / "gt.txt", "gt")
            info = read_seqinfo(mot_dir / name / "seqinfo.ini")
            dets = degrade(gt, cfg, sequence_rng(cfg.seed, name), img_size=(info.width, info.height), n_frames=info.length)
            write_mot(tmp / f"{name}.txt", dets, "det")
            n_gt += len(gt)
            n_det += len(dets)
    log.info("%d sequences: %d GT boxes -> %d detections in %s", len(names), n_gt, n_det, args.out_dir)


if __name__ == "__main__":
    cli.run(main)
