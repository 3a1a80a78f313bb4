"""Tracking speed: frames/s of each motion model behind the same ByteTrack association.

    python benchmarks/track.py [--frames 1000] [--objects 40] [--repeats 2] [--model results/trackssm/model.pt]

Same synthetic detections for every row (simulated camera trajectories with ~``objects``
visible objects per frame, degraded like ``gt_detections``' defaults: 20% dropped, 5%
jitter, false positives), same association (config.yaml's ``tracking.association``). Rows:

- ``reference``: ByteTrack's Kalman filter code style, one track at a time (its
  ``kalman_filter.py``: ``np.dot``/``multi_dot`` per track, ``scipy.linalg.cho_factor``/
  ``cho_solve`` per update), behind our association: the baseline the vectorised filter must
  beat;
- ``kalman``: our vectorised filter (all tracks in stacked arrays);
- ``iou``: no motion (the floor: what the association alone costs);
- ``trackssm`` on CPU (one batched forward per frame under ``torch.inference_mode``), and on
  CUDA when a GPU is present. Without ``--model`` (or when it is missing) a randomly
  initialised model of config.yaml's ``trackssm`` size is used: speed does not depend on the
  weights.

boxmot (the packaged ByteTrack/OC-SORT) is not installable beside our pins (pip reports
ResolutionImpossible against constraints.txt for every release), so ByteTrack's own package
is not timed; the reference row re-implements its per-track filter.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as the track entry point does

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from tabulate import tabulate  # noqa: E402

from nuscmot.tracking.boxes import interpolate_boxes, tlwh_to_xyah, xyah_to_tlwh  # noqa: E402
from nuscmot.tracking.config import AssociationConfig  # noqa: E402
from nuscmot.tracking.gt_detections import DegradeConfig, degrade  # noqa: E402
from nuscmot.tracking.iou import IoUMotion  # noqa: E402
from nuscmot.tracking.kalman import KalmanMotion  # noqa: E402
from nuscmot.tracking.motion import MotionModel  # noqa: E402
from nuscmot.tracking.tracker import track_sequence  # noqa: E402
from nuscmot.tracking.trackssm.checkpoint import load_checkpoint  # noqa: E402
from nuscmot.tracking.trackssm.model import ModelConfig, TrackSSM  # noqa: E402
from nuscmot.tracking.trackssm.motion import TrackSSMMotion  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' simulated scenes (not part of the package)
from support.simulate import Camera, simulate_scene  # noqa: E402
FRAME_RATE = 2.0  # the simulated camera's keyframe rate (tests/support/simulate.py DT = 0.5 s)
BOXMOT_NOTE = (
    "boxmot (packaged ByteTrack) is not installable beside our pins: `pip install --dry-run boxmot "
    "-c constraints.txt` ends in ResolutionImpossible for every release (10.0.1 to 25.0.0; it pulls "
    "torchvision/ultralytics), so it is not timed; 'reference' re-implements ByteTrack's per-track "
    "Kalman loop behind our association."
)


class ByteTrackKalmanFilter:
    """One track at a time, in the style of ByteTrack's ``kalman_filter.py``."""

    def __init__(self, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160):
        self._motion_mat = np.eye(8)
        for i in range(4):
            self._motion_mat[i, 4 + i] = 1.0
        self._update_mat = np.eye(4, 8)
        self._std_weight_position = std_weight_position
        self._std_weight_velocity = std_weight_velocity

    def initiate(self, measurement):
        mean = np.r_[measurement, np.zeros_like(measurement)]
        p, v, h = self._std_weight_position, self._std_weight_velocity, measurement[3]
        std = [2 * p * h, 2 * p * h, 1e-2, 2 * p * h, 10 * v * h, 10 * v * h, 1e-5, 10 * v * h]
        return mean, np.diag(np.square(std))

    def predict(self, mean, covariance):
        p, v, h = self._std_weight_position, self._std_weight_velocity, mean[3]
        motion_cov = np.diag(np.square(np.r_[[p * h, p * h, 1e-2, p * h], [v * h, v * h, 1e-5, v * h]]))
        mean = np.dot(mean, self._motion_mat.T)
        covariance = np.linalg.multi_dot((self._motion_mat, covariance, self._motion_mat.T)) + motion_cov
        return mean, covariance

    def project(self, mean, covariance):
        p, h = self._std_weight_position, mean[3]
        innovation_cov = np.diag(np.square([p * h, p * h, 1e-1, p * h]))
        mean = np.dot(self._update_mat, mean)
        covariance = np.linalg.multi_dot((self._update_mat, covariance, self._update_mat.T))
        return mean, covariance + innovation_cov

    def update(self, mean, covariance, measurement):
        projected_mean, projected_cov = self.project(mean, covariance)
        chol_factor, lower = scipy.linalg.cho_factor(projected_cov, lower=True, check_finite=False)
        kalman_gain = scipy.linalg.cho_solve(
            (chol_factor, lower), np.dot(covariance, self._update_mat.T).T, check_finite=False
        ).T
        innovation = measurement - projected_mean
        new_mean = mean + np.dot(innovation, kalman_gain.T)
        new_covariance = covariance - np.linalg.multi_dot((kalman_gain, projected_cov, kalman_gain.T))
        return new_mean, new_covariance


class PerTrackKalmanMotion(MotionModel):
    """The reference: a Python loop over tracks, each with its own mean and covariance."""

    def __init__(self):
        super().__init__()
        self.kf = ByteTrackKalmanFilter()
        self.state: dict[int, list] = {}  # id -> [mean, cov, observed, obs_mean, obs_cov, obs_box]

    def start(self, ids, boxes):
        for i, box in zip(ids.tolist(), boxes):
            mean, cov = self.kf.initiate(tlwh_to_xyah(box))
            self.state[i] = [mean, cov, True, mean, cov, box]
        self.ids = np.asarray(sorted(self.state), dtype=np.int64)

    def predict(self, ids):
        out = np.zeros((len(ids), 4))
        for k, i in enumerate(ids.tolist()):
            s = self.state[i]
            mean = s[0].copy()
            if not s[2]:
                mean[7] = 0
            s[0], s[1] = self.kf.predict(mean, s[1])
            s[2] = False
            out[k] = xyah_to_tlwh(s[0][:4])
        return out

    def update(self, ids, boxes):
        for i, box in zip(ids.tolist(), boxes):
            s = self.state[i]
            s[0], s[1] = self.kf.update(s[0], s[1], tlwh_to_xyah(box))
            s[2:] = [True, s[0], s[1], box]

    def reanchor(self, ids, boxes, gaps):
        for i, box, gap in zip(ids.tolist(), boxes, gaps.tolist()):
            s = self.state[i]
            mean, cov = s[3], s[4]
            for virtual in interpolate_boxes(s[5], box, np.array([gap]))[0]:
                mean, cov = self.kf.predict(mean, cov)
                mean, cov = self.kf.update(mean, cov, tlwh_to_xyah(virtual))
            s[:] = [mean, cov, True, mean, cov, box]

    def remove(self, ids):
        for i in ids.tolist():
            self.state.pop(i, None)
        self.ids = np.asarray(sorted(self.state), dtype=np.int64)


def trackssm_model(path: str | None) -> tuple[TrackSSM, str]:
    if path and Path(path).is_file():
        model, _, _ = load_checkpoint(path)
        return model, f"checkpoint {path}"
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())["trackssm"]
    keys = ("history", "d_model", "encoder_layers", "decoder_layers", "d_state", "expand", "decoder_expand", "head")
    mc = ModelConfig(**{k: cfg[k] for k in keys if k in cfg})
    torch.manual_seed(0)
    return TrackSSM(mc).eval(), f"random init, config.yaml size {mc}"


def time_trackers(cases, dets, frames, repeats, association) -> list[tuple[float, int]]:
    """Best frames/s of each case; repeats interleave the cases (ABC ABC) so that a change in
    machine load hits every case alike."""
    best = [float("inf")] * len(cases)
    n_out = [0] * len(cases)
    cfg = AssociationConfig(**association)
    for _ in range(repeats):
        for i, (_, _, make) in enumerate(cases):
            motion = make()
            t0 = time.perf_counter()
            out = track_sequence(cfg, motion, dets, frames, FRAME_RATE)
            best[i] = min(best[i], time.perf_counter() - t0)
            n_out[i] = len(out)
    return [(frames / b, n) for b, n in zip(best, n_out)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=1000)
    p.add_argument("--objects", type=int, default=40)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--model", default=str(ROOT / "results" / "trackssm" / "model.pt"))
    args = p.parse_args()
    torch.set_num_threads(1)

    cam = Camera(800, 450)
    gt = simulate_scene(np.random.default_rng(0), args.frames, args.objects, cam, respawn=True)
    dets = degrade(gt, DegradeConfig(), np.random.default_rng(1), img_size=(cam.img_w, cam.img_h), n_frames=args.frames)
    model, model_desc = trackssm_model(args.model)
    print(f"{args.frames} frames, {len(gt) / args.frames:.1f} objects and {len(dets) / args.frames:.1f} detections "
          f"per frame; TrackSSM: {model_desc}; best of {args.repeats}")

    rows = []
    cases = [
        ("reference (ByteTrack-style per-track Kalman)", "cpu", PerTrackKalmanMotion),
        ("kalman (vectorised)", "cpu", KalmanMotion),
        ("trackssm", "cpu", lambda: TrackSSMMotion(model.cpu(), cam.img_w, cam.img_h)),
        ("iou (no motion: the association's own cost)", "cpu", IoUMotion),
    ]
    if torch.cuda.is_available():
        cases.append(("trackssm", "cuda", lambda: TrackSSMMotion(model.cuda(), cam.img_w, cam.img_h)))
    association = yaml.safe_load((ROOT / "config.yaml").read_text())["tracking"]["association"]
    timings = time_trackers(cases, dets, args.frames, args.repeats, association)
    for (name, device, _), (fps, n_out) in zip(cases, timings):
        rows.append([name, device, fps, 1000 / fps, n_out])
    ref, kalman = rows[0][2], rows[1][2]
    table = [r[:4] + [r[2] / ref, r[2] / kalman, r[4]] for r in rows]
    print(tabulate(table, ["tracker", "device", "frames/s", "ms/frame", "x reference", "x kalman", "output boxes"],
                   tablefmt="github", floatfmt=".2f"))
    print(f"kalman / reference = {kalman / ref:.2f} (target >= 1); "
          f"trackssm (cpu) / kalman = {rows[2][2] / kalman:.2f} (target >= 0.5)")
    print(BOXMOT_NOTE)


if __name__ == "__main__":
    main()
