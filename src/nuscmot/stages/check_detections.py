"""Check a ``files`` detection source (MOT detection files from any detector) before tracking.

    python -m nuscmot.stages.check_detections \\
        --params '{"score_transform": <tracking.score_transform slice or null>, "num_classes": 7
                   [, "classes": [names]]}' \\
        --src-dir DIR [--pattern '{seq}/det/det.txt'] --mot-dir results/mot/test \\
        --seqmap results/mot/seqmaps/test.txt --out-dir DIR

Every sequence of the seqmap needs ``<src-dir>/<pattern>`` (``{seq}`` the sequence's name; default
``{seq}.txt``) in MOT det format (``frame,-1,x,y,w,h,score,class,-1,-1``, 1-based frames within
seqinfo.ini's seqLength, class 1..num_classes (``classes``: their names; default nuScenes' seven
with num_classes 7), score in [0, 1] after the
score transform). Every sequence is checked before anything is written; the first problem is one
line naming the file and line. The checked files are copied byte for byte to ``--out-dir``
(written atomically): the folder tracking reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.tracking.scores import ScoreTransform

SLICES = {"tracking.score_transform": ScoreTransform}
PARAM_KEYS = ("score_transform", "num_classes", "classes")


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("src-dir", "mot-dir", "seqmap", "out-dir"):
        p.add_argument(f"--{name}", required=True, type=Path)
    p.add_argument("--pattern", default="{seq}.txt", help="each sequence's file below --src-dir ({seq}: its name)")
    args = p.parse_args(argv)
    if "{seq}" not in args.pattern:
        raise InputError("--pattern", f"must contain {{seq}}, got {args.pattern!r}")
    params = cli.load_params(args.params)
    extra = sorted(set(params) - set(PARAM_KEYS))
    if extra:
        raise InputError("--params", f"unknown key(s) {', '.join(extra)} (expected {', '.join(PARAM_KEYS)})")
    transform = from_dict(ScoreTransform, params.get("score_transform"), where="tracking.score_transform")
    num_classes = params.get("num_classes", 7)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise InputError("--params", f"num_classes must be an integer >= 1, got {num_classes!r}", key="num_classes")
    classes = params.get("classes") or []
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes) \
            or (classes and len(classes) != num_classes):
        raise InputError("--params", f"classes must be a list of num_classes names, got {classes!r}", key="classes")

    from nuscmot.tracking.check_detections import check_detections

    check_detections(transform, num_classes, args.src_dir, args.mot_dir, args.seqmap, args.out_dir, args.pattern,
                     tuple(classes))


if __name__ == "__main__":
    cli.run(main)
