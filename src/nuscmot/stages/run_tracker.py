"""Track every test sequence with one motion model behind the shared ByteTrack association.

    python -m nuscmot.stages.run_tracker --params '{"cfg": <tracking.association>, "motion": <tracking.motion.X>,
        "score_transform": <tracking.score_transform>}' \
        --tracker kalman|trackssm|iou|... --dets-dir DIR --mot-dir DIR --seqmap F [--model F] --out-dir DIR

Writes ``<out-dir>/<seq>.txt`` (MOT result format) for every sequence of the seqmap; the image
size and frame rate come from ``<mot-dir>/<seq>/seqinfo.ini`` (the rate turns ``max_age_s``
into frames; a TrackSSM model runs only at the frame rate and image size (within
``size_tolerance``) it was trained at, unless ``allow_rate_mismatch`` / ``allow_size_mismatch``).
Every sequence is checked (seqinfo.ini, detections, motion model) before any is tracked
(:func:`nuscmot.tracking.run.check_sequences`). Detection scores go through ``score_transform`` and must
then lie in [0, 1]. A sequence without detections gives an empty file (an empty det file is
no detections; a missing one is an error: :func:`nuscmot.common.mot.read_dets`). The logged frames/s counts tracking alone, not
loading or tracing the model. With ``ego_compensation: true`` in the association slice, each
sequence's camera poses are read from ``<mot-dir>/<seq>/cam_pose.json`` (written by convert; a
missing file is an error) and every track is warped by the camera's rotation between frames
(:mod:`nuscmot.tracking.ego`).
"""

from __future__ import annotations

import os

# Tracking is a sequential stream of tiny matrix operations: BLAS/OpenMP worker threads only
# add synchronisation (measured 15x slower 4x4 inverses with 2 OpenBLAS threads on 2 busy
# cores). Must be set before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402
from typing import Sequence  # noqa: E402

from nuscmot.common import cli  # noqa: E402
from nuscmot.common.config import from_dict  # noqa: E402
from nuscmot.common.errors import InputError  # noqa: E402
from nuscmot.tracking.config import AssociationConfig  # noqa: E402
from nuscmot.tracking.models import motion_slices, names  # noqa: E402
from nuscmot.tracking.run import TrackingPaths, run_tracker, settings  # noqa: E402
from nuscmot.tracking.scores import ScoreTransform  # noqa: E402

PARAM_KEYS = ("cfg", "motion", "score_transform")
# the config slices behind those keys (the motion slice is the tracker's: tracking.motion.<tracker>)
SLICES = {"tracking.association": AssociationConfig, **motion_slices(), "tracking.score_transform": ScoreTransform}


def parse_args(argv: Sequence[str] | None):
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--tracker", required=True, choices=names())
    p.add_argument("--dets-dir", required=True, help="detections, one <seq>.txt per sequence")
    p.add_argument("--mot-dir", required=True, help="MOT folder with <seq>/seqinfo.ini")
    p.add_argument("--seqmap", required=True)
    p.add_argument("--model", default=None, help="a learned model's checkpoint (trackssm)")
    p.add_argument("--tuned", type=Path, default=None, help="a sweep's best.json: use its settings for this tracker")
    p.add_argument("--source", default=None, help="detection source the tuned settings were chosen on")
    p.add_argument("--ego", choices=("on", "off", "flip"), default=None,
                   help="override ego_compensation (flip: the opposite of the settings')")
    p.add_argument("--out-dir", required=True)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    params = cli.load_params(args.params)
    extra = sorted(set(params) - set(PARAM_KEYS))
    if extra:
        raise InputError("--params", f"unknown key(s) {', '.join(extra)} (expected {', '.join(PARAM_KEYS)})")
    used = settings(params, args.tracker, args.tuned, args.source, args.ego)
    transform = from_dict(ScoreTransform, params.get("score_transform"), where="tracking.score_transform")
    paths = TrackingPaths(Path(args.dets_dir), Path(args.mot_dir), Path(args.seqmap), Path(args.out_dir), args.model)
    run_tracker(args.tracker, args.source, used, transform, paths)


if __name__ == "__main__":
    cli.run(main)
