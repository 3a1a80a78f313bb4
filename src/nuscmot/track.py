"""Track every test sequence with one motion model behind the shared ByteTrack association.

    python -m nuscmot.track --params '{"cfg": <tracking.association>, "motion": <tracking.motion.X>,
        "score_transform": <tracking.score_transform>}' \
        --tracker kalman|trackssm --dets-dir DIR --mot-dir DIR --seqmap F [--model F] --out-dir DIR

Writes ``<out-dir>/<seq>.txt`` (MOT result format) for every sequence of the seqmap; the image
size and frame rate come from ``<mot-dir>/<seq>/seqinfo.ini`` (the rate turns ``max_age_s``
into frames; a TrackSSM model runs only at the frame rate and image size it was trained at,
unless ``allow_rate_mismatch``). Detection scores go through ``score_transform`` and must
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

import logging  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Sequence  # noqa: E402

import numpy as np  # noqa: E402

from nuscmot.common import cli  # noqa: E402
from nuscmot.common.config import from_dict  # noqa: E402
from nuscmot.common.errors import InputError  # noqa: E402
from nuscmot.common.io import atomic_dir, write_json  # noqa: E402
from nuscmot.common.mot import SeqInfo, read_dets, read_seqinfo, read_seqmap, write_mot  # noqa: E402
from nuscmot.tracking.config import AssociationConfig  # noqa: E402
from nuscmot.tracking.kalman import KalmanConfig  # noqa: E402
from nuscmot.tracking.motion import MotionModel  # noqa: E402
from nuscmot.tracking.scores import ScoreTransform, checked_scores  # noqa: E402
from nuscmot.tracking.tracker import track_sequence  # noqa: E402

log = logging.getLogger(__name__)
TRACKERS = ("kalman", "trackssm")
PARAM_KEYS = ("cfg", "motion", "score_transform")
SETTINGS_FILE = "settings.json"  # in the output folder: the settings used and where they came from
MotionFactory = Callable[[SeqInfo, Path], MotionModel]  # (sequence, its seqinfo.ini) -> fresh model


def motion_factory(tracker: str, motion_cfg: dict[str, Any], model_path: str | None) -> MotionFactory:
    """A fresh motion model per sequence, for the named tracker."""
    if tracker == "kalman":
        kf = from_dict(KalmanConfig, motion_cfg, where="tracking.motion.kalman")
        return lambda info, seqinfo: kf.motion(info.frame_rate)
    return trackssm_factory(motion_cfg, model_path)


def trackssm_factory(motion_cfg: dict[str, Any], model_path: str | None) -> MotionFactory:
    """Loads (and traces) the model once; each sequence is checked against what the model was
    trained on (frame rate, image size)."""
    import torch

    from nuscmot.common.device import resolve_device
    from nuscmot.tracking.trackssm.checkpoint import geometry_mismatch, load_checkpoint
    from nuscmot.tracking.trackssm.config import TrackSSMMotionConfig
    from nuscmot.tracking.trackssm.motion import TrackSSMMotion

    cfg = from_dict(TrackSSMMotionConfig, motion_cfg, where="tracking.motion.trackssm")
    if not model_path:
        raise InputError("--model", "the trackssm tracker needs a TrackSSM checkpoint (--model)")
    torch.set_num_threads(1)  # one small batched forward per frame: threads only add overhead
    model, trained_on, meta = load_checkpoint(model_path, resolve_device(cfg.device, "tracking.motion.trackssm"))
    trained_steps = (meta.get("trackssm") or {}).get("rollout_steps")
    if isinstance(trained_steps, int) and cfg.rollout_horizon > trained_steps:
        log.warning("rollout_horizon %d exceeds the %d-step rollouts %s was trained on",
                    cfg.rollout_horizon, trained_steps, model_path)
    if cfg.jit:  # trace now, outside the timed tracking
        model.traced_predictor(next(model.parameters()).device)

    def make(info: SeqInfo, seqinfo: Path) -> MotionModel:
        problem = geometry_mismatch(trained_on, info.frame_rate, info.width, info.height)
        if problem and not cfg.allow_rate_mismatch:
            raise InputError(seqinfo, f"{problem} ({model_path}); retrain TrackSSM on such data or set "
                                      "tracking.motion.trackssm.allow_rate_mismatch: true")
        if problem:
            log.warning("%s: %s (%s); tracking anyway (allow_rate_mismatch)", seqinfo, problem, model_path)
        return TrackSSMMotion(model, info.width, info.height, jit=cfg.jit, rollout_horizon=cfg.rollout_horizon,
                              rollout_fallback=cfg.rollout_fallback)

    return make


def read_sequence(path: Path) -> SeqInfo:
    info = read_seqinfo(path)
    if not info.frame_rate > 0:
        raise InputError(path, f"frameRate must be > 0, got {info.frame_rate:g}")
    return info


def read_detections(path: Path, info: SeqInfo, transform: ScoreTransform) -> np.ndarray:
    """A sequence's detections (:func:`nuscmot.common.mot.read_dets`: a missing file is an
    error), scores checked to lie in [0, 1] after ``transform``."""
    return checked_scores(read_dets(path, info.length), path, transform)


def camera_homographies(seq_dir: Path, info: SeqInfo) -> np.ndarray:
    """(length, 3, 3) frame-to-frame rotation homographies of one sequence from its pose file."""
    from nuscmot.data.cam_pose import CAM_POSE_FILE, read_cam_poses
    from nuscmot.tracking.ego import sequence_homographies

    poses = read_cam_poses(seq_dir / CAM_POSE_FILE, info.length)
    return sequence_homographies(poses.rotations, poses.intrinsic)


def track_one(association: AssociationConfig, make_motion: MotionFactory, mot_dir: Path, dets_dir: Path, name: str,
              transform: ScoreTransform) -> tuple[np.ndarray, int, float]:
    """One sequence: (result rows, frames, seconds spent tracking, model building excluded)."""
    seqinfo = mot_dir / name / "seqinfo.ini"
    info = read_sequence(seqinfo)
    dets = read_detections(dets_dir / f"{name}.txt", info, transform)
    warps = camera_homographies(mot_dir / name, info) if association.ego_compensation else None
    motion = make_motion(info, seqinfo)
    t0 = time.perf_counter()
    rows = track_sequence(association, motion, dets, info.length, info.frame_rate, warps)
    return rows, info.length, time.perf_counter() - t0


def tuned_settings(path: Path, source: str, tracker: str) -> dict[str, Any]:
    """The tuned association and motion slices of ``tracker`` on ``source`` from a sweep's best.json."""
    from nuscmot.common.io import read_json

    doc = read_json(path)
    try:
        best = doc["sources"][source][tracker]
        return {"association": dict(best["association"]), "motion": dict(best["motion"]), "cell": best["cell"],
                "split": doc.get("split", "tune")}
    except (KeyError, TypeError):
        raise InputError(path, f"holds no tuned settings of {tracker} on {source} detections (rerun sweep_tracking)") from None


def settings(params: dict[str, Any], tracker: str, tuned: Path | None, source: str | None, ego: str | None) -> dict:
    """The association and motion slices this run uses, and where they come from."""
    out = {"association": dict(params.get("cfg") or {}), "motion": dict(params.get("motion") or {}), "origin": "config"}
    if tuned is not None:
        if not source:
            raise InputError("--source", "--tuned needs the detection source (--source detector|gt)")
        best = tuned_settings(tuned, source, tracker)
        out.update(association=best["association"], motion=best["motion"],
                   origin=f"tuned on {best['split']} ({best['cell']})", tuned_from=str(tuned))
    if ego is not None:
        base = bool(out["association"].get("ego_compensation", False))
        out["association"]["ego_compensation"] = {"on": True, "off": False, "flip": not base}[ego]
        out["origin"] += f", ego_compensation {ego}"
    return out


def parse_args(argv: Sequence[str] | None):
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--tracker", required=True, choices=TRACKERS)
    p.add_argument("--dets-dir", required=True, help="detections, one <seq>.txt per sequence")
    p.add_argument("--mot-dir", required=True, help="MOT folder with <seq>/seqinfo.ini")
    p.add_argument("--seqmap", required=True)
    p.add_argument("--model", default=None, help="TrackSSM checkpoint (trackssm only)")
    p.add_argument("--tuned", type=Path, default=None, help="a sweep's best.json: use its settings for this tracker")
    p.add_argument("--source", default=None, help="detection source the tuned settings were chosen on")
    p.add_argument("--ego", choices=("on", "off", "flip"), default=None,
                   help="override ego_compensation (flip: the opposite of the settings')")
    p.add_argument("--out-dir", required=True)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    from tqdm import tqdm

    args = parse_args(argv)
    params = cli.load_params(args.params)
    extra = sorted(set(params) - set(PARAM_KEYS))
    if extra:
        raise InputError("--params", f"unknown key(s) {', '.join(extra)} (expected {', '.join(PARAM_KEYS)})")
    used = settings(params, args.tracker, args.tuned, args.source, args.ego)
    association = from_dict(AssociationConfig, used["association"], where="tracking.association")
    transform = from_dict(ScoreTransform, params.get("score_transform"), where="tracking.score_transform")
    make_motion = motion_factory(args.tracker, used["motion"], args.model)
    dets_dir, mot_dir = Path(args.dets_dir), Path(args.mot_dir)
    if not dets_dir.is_dir():
        raise InputError(dets_dir, "detections folder does not exist")
    names = read_seqmap(args.seqmap)
    frames, seconds = 0, 0.0
    with atomic_dir(args.out_dir) as tmp:
        for name in tqdm(names, desc=f"track {args.tracker}", leave=False):
            rows, n, dt = track_one(association, make_motion, mot_dir, dets_dir, name, transform)
            frames, seconds = frames + n, seconds + dt
            write_mot(tmp / f"{name}.txt", rows, "result")
        write_json(tmp / SETTINGS_FILE, {"tracker": args.tracker, "source": args.source, **used})
    log.info("%s%s: %d sequences, %d frames, %.0f frames/s (tracking only); settings: %s", args.tracker,
             " (ego-motion compensated)" if association.ego_compensation else "", len(names), frames,
             frames / max(seconds, 1e-9), used["origin"])


if __name__ == "__main__":
    cli.run(main)
