"""Entry point of the ``convert`` stage: nuScenes -> COCO, MOT test ground truth, trajectories.

    python -m nuscmot.stages.convert --params '{"cfg": {<convert slice>}, "version": "v1.0-synth"}' \
        --dataroot D --coco-train F --coco-val F --coco-test F --mot-dir DIR --seqmap F \
        --traj-train F.parquet --traj-val F.parquet --splits F.json \
        [--tune-mot-dir DIR --tune-seqmap F]

The tuning split (``--tune-*``) is the test camera of the detector-val scenes, from the official
*train* side: motion models and association are tuned there, never on a test scene.

See :mod:`nuscmot.data.convert` for what is written and which filters apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from nuscmot.common import cli
from nuscmot.data.convert import ConvertConfig, Outputs, convert, parse_params

SLICES = {"convert": ConvertConfig}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = cli.parser("Convert a nuScenes-format dataset to COCO, MOT ground truth and trajectories.")
    p.add_argument("--dataroot", required=True, type=Path, help="nuScenes dataroot (holds <version>/ and samples/)")
    p.add_argument("--coco-train", required=True, type=Path, help="COCO JSON, detector train scenes, all cameras")
    p.add_argument("--coco-val", required=True, type=Path, help="COCO JSON, detector val scenes, all cameras")
    p.add_argument("--coco-test", required=True, type=Path, help="COCO JSON, test scenes, test camera")
    p.add_argument("--mot-dir", required=True, type=Path, help="folder of MOT sequences (one per test scene)")
    p.add_argument("--seqmap", required=True, type=Path, help="MOT seqmap of the test scenes")
    p.add_argument("--traj-train", required=True, type=Path, help="parquet trajectories, detector train scenes")
    p.add_argument("--traj-val", required=True, type=Path, help="parquet trajectories, detector val scenes")
    p.add_argument("--splits", required=True, type=Path, help="JSON of the scene splits")
    p.add_argument("--tune-mot-dir", type=Path, default=None,
                   help="folder of MOT sequences for tuning (test camera of the detector-val scenes)")
    p.add_argument("--tune-seqmap", type=Path, default=None, help="MOT seqmap of the tuning sequences")
    args = p.parse_args(argv)

    cfg, version = parse_params(cli.load_params(args.params))
    outputs = Outputs(
        coco_train=args.coco_train,
        coco_val=args.coco_val,
        coco_test=args.coco_test,
        mot_dir=args.mot_dir,
        seqmap=args.seqmap,
        traj_train=args.traj_train,
        traj_val=args.traj_val,
        splits=args.splits,
        tune_mot_dir=args.tune_mot_dir,
        tune_seqmap=args.tune_seqmap,
    )
    return convert(cfg, version, args.dataroot, outputs)


if __name__ == "__main__":
    cli.run(main)
