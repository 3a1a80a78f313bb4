"""The tracker's output, frozen: simulated sequences tracked under several association
settings, with Kalman and TrackSSM motion, must give exactly the rows recorded here (a digest
of the result rows' bytes per case).

The digests were recorded before the tracker was split into named steps (issue 13); a change
in any of them means the tracker's behaviour changed. Regenerate (only for an intended change)
with ``python tests/tracking/test_tracker_regression.py``.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import pytest
import torch

from nuscmot.tracking.config import AssociationConfig
from nuscmot.tracking.ego import sequence_homographies
from nuscmot.tracking.gt_detections import DegradeConfig, degrade
from nuscmot.tracking.kalman import KalmanMotion
from support.simulate import Camera, simulate_scene
from nuscmot.tracking.tracker import track_sequence

CAM = Camera(800, 450)
N_FRAMES = 30
LOOSE = {"match_thresh": 0.9, "second_match_thresh": 0.8, "unconfirmed_match_thresh": 0.95}  # config.yaml's gates

# name -> (association settings, motion, frame rate, ego compensation)
CASES = {
    "defaults-kalman": ({}, "kalman", 2.0, False),
    "loose-kalman": (LOOSE, "kalman", 2.0, False),
    "loose-kalman-12hz": ({**LOOSE, "max_age_s": 1.0}, "kalman", 12.0, False),
    "classless-noreanchor-kalman": ({"per_class": False, "reanchor": False, "min_hits": 1}, "kalman", 2.0, False),
    "strict-kalman": ({"min_hits": 3, "max_age_s": 2.0, "min_box_area": 400.0, "duplicate_thresh": 0.9,
                       "track_high_thresh": 0.6, "track_low_thresh": 0.2, "new_track_thresh": 0.7},
                      "kalman", 2.0, False),
    "ego-kalman": (LOOSE, "kalman", 2.0, True),
    "instant-kalman": ({**LOOSE, "min_hits": 1}, "kalman", 2.0, False),
    "loose-trackssm": (LOOSE, "trackssm", 2.0, False),
    "ego-classless-trackssm": ({**LOOSE, "per_class": False}, "trackssm", 2.0, True),
}

# name -> (result rows, digest of their bytes), recorded with the tracker before issue 13's split
EXPECTED = {
    "classless-noreanchor-kalman": (562, "17cbca10569e0bdf84a5"),
    "defaults-kalman": (272, "02e2492feefb62fc4138"),
    "ego-classless-trackssm": (397, "0e6dfa99ae47134ebf51"),
    "ego-kalman": (302, "a197d10e09efce9b9180"),
    "instant-kalman": (596, "035dc0d07db1f3e347a7"),
    "loose-kalman": (339, "1ba1bcd6f9665937a718"),
    "loose-kalman-12hz": (335, "f8dbafafc6d56105b96b"),
    "loose-trackssm": (340, "dfe422f34b039696cdaf"),
    "strict-kalman": (183, "28be9f8276994cf743a0"),
}


@functools.lru_cache(maxsize=None)
def sequences() -> tuple:
    """(dets, homographies) of two simulated sequences and :func:`class_flips`.

    The simulated ones have gaps (independent and burst drops), jitter, false positives,
    scores from 0.05 (below, inside and above the low-score band) and one detection in ten of
    a random class; boxes and scores are rounded to binary fractions, so the input is the same
    bytes wherever the sines and cosines of the simulation round differently in the last bit.
    """
    out = []
    for seed in range(2):
        rng = np.random.default_rng(seed)
        gt = simulate_scene(rng, N_FRAMES, 14, CAM, respawn=True)
        cfg = DegradeConfig(seed=seed, drop_rate=0.2, drop_mode=("independent", "burst")[seed % 2], jitter=0.08,
                            false_positives_per_frame=1.5, score_low=0.05)
        dets = degrade(gt, cfg, rng, img_size=(CAM.img_w, CAM.img_h), n_frames=N_FRAMES)
        flip = rng.random(len(dets)) < 0.1
        dets[flip, 7] = rng.integers(1, 8, int(flip.sum()))
        dets[:, 2:6] = np.round(dets[:, 2:6] * 64) / 64
        dets[:, 6] = np.round(dets[:, 6] * 1024) / 1024
        yaw = np.cumsum(rng.normal(0.0, 0.02, N_FRAMES))
        rot = np.stack([[[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]] for a in yaw])
        k = np.array([[CAM.focal, 0, CAM.img_w / 2], [0, CAM.focal, CAM.img_h / 2], [0, 0, 1]])
        out.append((dets, sequence_homographies(rot, k)))
    out.append((class_flips(), out[0][1]))
    return tuple(out)


def class_flips() -> np.ndarray:
    """Six objects on straight lanes, each detected as another class for two frames (a second
    track is born and confirmed on the flipped detections, then duplicates the re-found one)."""
    rows = []
    for i in range(6):
        for f in range(1, N_FRAMES + 1):
            cls = 5 if 4 * i + 3 <= f < 4 * i + 5 else 1
            score = 0.3 if f == 4 * i + 6 else 0.9
            rows.append([f, -1, 60 + 110 * i + 6 * f, 80 + 50 * i + f, 60 + i, 50, score, cls, -1, -1])
    return np.asarray(rows, dtype=np.float64)


def trackssm_motion():
    """An untrained tiny TrackSSM with a seeded random head (so it predicts motion), eager."""
    from nuscmot.tracking.trackssm.model import ModelConfig, TrackSSM
    from nuscmot.tracking.trackssm.motion import TrackSSMMotion

    torch.manual_seed(0)
    model = TrackSSM(ModelConfig(history=4, d_model=16, encoder_layers=1, decoder_layers=2, d_state=4, expand=1))
    model.set_statistics(np.zeros(8), np.ones(8), [0.01, 0.01, 0.01, 0.01])
    with torch.no_grad():
        head = model.decoder[-1].head
        head.weight.copy_(0.05 * torch.randn(head.weight.shape, generator=torch.Generator().manual_seed(1)))
        head.bias.copy_(torch.tensor([0.3, 0.1, 0.2, 0.2]))
    return TrackSSMMotion(model, CAM.img_w, CAM.img_h, jit=False, rollout_horizon=2)


def run_case(name: str) -> np.ndarray:
    """Result rows of every sequence, in order, with the sequence index appended as a column."""
    settings, motion, rate, ego = CASES[name]
    out = []
    for i, (dets, warps) in enumerate(sequences()):
        cfg = AssociationConfig(**settings, ego_compensation=ego)
        m = KalmanMotion() if motion == "kalman" else trackssm_motion()
        rows = track_sequence(cfg, m, dets, N_FRAMES, rate, warps if ego else None)
        out.append(np.column_stack([rows, np.full(len(rows), i)]))
    return np.concatenate(out)


def digest(rows: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(rows, dtype=np.float64).tobytes()).hexdigest()[:20]


@pytest.mark.parametrize("name", sorted(CASES))
def test_tracker_output_is_unchanged(name):
    rows = run_case(name)
    assert (len(rows), digest(rows)) == EXPECTED[name]


if __name__ == "__main__":
    torch.set_num_threads(1)
    for case in sorted(CASES):
        r = run_case(case)
        print(f'    "{case}": ({len(r)}, "{digest(r)}"),')
