"""TrackSSM's trajectory tables from the GT of a MOTChallenge-layout dataset (``dataset.kind: mot``).

    python -m nuscmot.stages.mot_trajectories --params '{}' --mot-dir DIR \
        --train-seqmap F --val-seqmap F --test-seqmap F --traj-train F.parquet --traj-val F.parquet

``--train-seqmap``: ``dataset.mot.train_seqmap``; ``--val-seqmap``: the tuning seqmap (early
stopping and the held-out comparison, as the detector-val scenes are for nuScenes data); a
sequence of ``--test-seqmap`` in either is refused. Same schema as ``convert``'s trajectories
(see :mod:`nuscmot.data.mot_trajectories`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.errors import InputError

SLICES: dict[str, type] = {}  # no config slice: the sequences come as seqmaps

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("mot-dir", "train-seqmap", "val-seqmap", "test-seqmap", "traj-train", "traj-val"):
        p.add_argument(f"--{name}", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    if params:
        raise InputError("--params", f"unknown key(s) {', '.join(sorted(params))} (takes none)")

    from nuscmot.data.mot_trajectories import write_mot_trajectories

    rows = write_mot_trajectories(args.mot_dir, args.train_seqmap, args.val_seqmap, args.test_seqmap,
                                  args.traj_train, args.traj_val)
    log.info("trajectory rows: %s", rows)


if __name__ == "__main__":
    cli.run(main)
