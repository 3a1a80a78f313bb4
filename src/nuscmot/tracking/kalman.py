"""Constant-velocity Kalman filter over (cx, cy, aspect, h), vectorised over tracks.

Same model and noise scaling as ByteTrack's ``kalman_filter.py`` (process and measurement
noise proportional to the box height: ``std_weight_position`` 1/20, ``std_weight_velocity``
1/160 at 30 Hz), but every operation takes stacked states: means (N, 8), covariances (N, 8, 8).
:class:`KalmanConfig` scales the velocity noise to the sequence's frame rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuscmot.common.fields import AT_LEAST_0, POSITIVE, check_fields, limited
from nuscmot.tracking.boxes import interpolate_boxes, tlwh_to_xyah, xyah_to_tlwh
from nuscmot.tracking.ego import warp_kalman, warp_tlwh
from nuscmot.tracking.motion import MotionFactory, MotionModel, keep_rows

NDIM = 4


_DIAG8 = np.arange(2 * NDIM)
_DIAG4 = np.arange(NDIM)


@dataclass(frozen=True)
class KalmanFilter:
    """Batched constant-velocity Kalman filter (state: cx, cy, a, h and their velocities).

    Noise standard deviations are ByteTrack's: proportional to the height h, except for the
    aspect ratio (fixed 1e-2 process, 1e-1 measurement, 1e-5 velocity).
    """

    std_weight_position: float = 1.0 / 20
    std_weight_velocity: float = 1.0 / 160

    def _var(self, pos: float, vel: float, a: float, va: float) -> tuple[np.ndarray, np.ndarray]:
        """Variance = h^2 * scale + const, as (scale, const) over the 8 state dims."""
        p, v = self.std_weight_position * pos, self.std_weight_velocity * vel
        scale = np.array([p, p, 0, p, v, v, 0, v]) ** 2
        const = np.array([0, 0, a, 0, 0, 0, va, 0]) ** 2
        return scale, const

    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Measurements (N, 4) xyah -> mean (N, 8) with zero velocity, covariance (N, 8, 8)."""
        z = np.asarray(measurement, dtype=np.float64).reshape(-1, NDIM)
        mean = np.concatenate([z, np.zeros_like(z)], axis=1)
        scale, const = self._var(2.0, 10.0, 1e-2, 1e-5)
        cov = np.zeros((len(z), 2 * NDIM, 2 * NDIM))
        cov[:, _DIAG8, _DIAG8] = z[:, 3:4] ** 2 * scale + const
        return mean, cov

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step of x' = F x, P' = F P F^T + Q, for every row."""
        scale, const = self._var(1.0, 1.0, 1e-2, 1e-5)
        new_mean = mean.copy()
        new_mean[:, :NDIM] += mean[:, NDIM:]
        # F = [[I, I], [0, I]]  =>  F P F^T blockwise, without (BLAS) matrix products.
        a, b = cov[:, :NDIM, :NDIM], cov[:, :NDIM, NDIM:]
        c, d = cov[:, NDIM:, :NDIM], cov[:, NDIM:, NDIM:]
        new_cov = np.empty_like(cov)
        new_cov[:, :NDIM, :NDIM] = a + b + c + d
        new_cov[:, :NDIM, NDIM:] = b + d
        new_cov[:, NDIM:, :NDIM] = c + d
        new_cov[:, NDIM:, NDIM:] = d
        new_cov[:, _DIAG8, _DIAG8] += mean[:, 3:4] ** 2 * scale + const
        return new_mean, new_cov

    def project(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Measurement-space mean (N, 4) and innovation covariance (N, 4, 4)."""
        scale, const = self._var(1.0, 1.0, 1e-1, 0.0)
        proj_cov = cov[:, :NDIM, :NDIM].copy()
        proj_cov[:, _DIAG4, _DIAG4] += mean[:, 3:4] ** 2 * scale[:NDIM] + const[:NDIM]
        return mean[:, :NDIM].copy(), proj_cov

    def update(self, mean: np.ndarray, cov: np.ndarray, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kalman correction of every row with its measurement (N, 4) xyah."""
        proj_mean, proj_cov = self.project(mean, cov)
        # K = P H^T S^-1 (N, 8, 4); P' = P - K S K^T = P - K (H P).
        gain = cov[:, :, :NDIM] @ np.linalg.inv(proj_cov)
        innovation = np.asarray(measurement, dtype=np.float64).reshape(-1, NDIM) - proj_mean
        new_mean = mean + (gain @ innovation[:, :, None])[:, :, 0]
        new_cov = cov - gain @ cov[:, :NDIM, :]
        return new_mean, new_cov


@dataclass(frozen=True)
class KalmanConfig:
    """The ``tracking.motion.kalman`` slice.

    ByteTrack's noise weights were set for 30 Hz video. ``std_weight_velocity`` is stated at
    ``reference_rate`` Hz (ByteTrack's 30) and scaled to each sequence's frame rate
    (``seqinfo.ini`` ``frameRate``) by ``(reference_rate / rate) ** rate_exponent``: with white-noise
    acceleration the velocity change between two frames grows as dt^0.5 in pixels per second,
    so as dt^1.5 in the filter's pixels per frame (exponent 1.5). At 2 Hz ByteTrack's 1/160
    becomes 0.363. ``reference_rate: 0`` uses the weight as given at every rate.
    """

    std_weight_position: float = limited(1.0 / 20, **POSITIVE)
    std_weight_velocity: float = limited(1.0 / 160, **POSITIVE)
    reference_rate: float = limited(30.0, **AT_LEAST_0)
    rate_exponent: float = limited(1.5, **AT_LEAST_0)

    def __post_init__(self) -> None:
        check_fields(self, "tracking.motion.kalman")

    def velocity_weight(self, frame_rate: float) -> float:
        """``std_weight_velocity`` at ``frame_rate`` frames/s."""
        if self.reference_rate <= 0:
            return self.std_weight_velocity
        return self.std_weight_velocity * (self.reference_rate / frame_rate) ** self.rate_exponent

    def motion(self, frame_rate: float) -> "KalmanMotion":
        return KalmanMotion(self.std_weight_position, self.velocity_weight(frame_rate))


class KalmanMotion(MotionModel):
    """The ``kalman`` motion model: one :class:`KalmanFilter` state per track.

    As in ByteTrack, a track that was not observed in the previous frame (lost) has its
    height velocity zeroed before predicting. The state right after the last observation is
    kept for :meth:`reanchor`.
    """

    def __init__(self, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160):
        super().__init__()
        self.kf = KalmanFilter(std_weight_position, std_weight_velocity)
        self.mean = np.zeros((0, 8))
        self.cov = np.zeros((0, 8, 8))
        self.observed = np.zeros(0, dtype=bool)  # observed in the last step
        self.obs_mean = np.zeros((0, 8))  # state right after the last observation
        self.obs_cov = np.zeros((0, 8, 8))
        self.obs_box = np.zeros((0, 4))  # last observed box, tlwh

    def start(self, ids: np.ndarray, boxes: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        mean, cov = self.kf.initiate(tlwh_to_xyah(boxes))
        self.ids = np.concatenate([self.ids, ids])
        self.mean = np.concatenate([self.mean, mean])
        self.cov = np.concatenate([self.cov, cov])
        self.observed = np.concatenate([self.observed, np.ones(len(ids), dtype=bool)])
        self.obs_mean = np.concatenate([self.obs_mean, mean])
        self.obs_cov = np.concatenate([self.obs_cov, cov])
        self.obs_box = np.concatenate([self.obs_box, boxes])

    def predict(self, ids: np.ndarray) -> np.ndarray:
        r = self.rows(ids)
        if not len(r):
            return np.zeros((0, 4))
        mean = self.mean[r]
        mean[~self.observed[r], 7] = 0.0
        self.mean[r], self.cov[r] = self.kf.predict(mean, self.cov[r])
        self.observed[r] = False
        return xyah_to_tlwh(self.mean[r, :NDIM])

    def update(self, ids: np.ndarray, boxes: np.ndarray) -> None:
        r = self.rows(ids)
        if not len(r):
            return
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.mean[r], self.cov[r] = self.kf.update(self.mean[r], self.cov[r], tlwh_to_xyah(boxes))
        self._observed(r, boxes)

    def reanchor(self, ids: np.ndarray, boxes: np.ndarray, gaps: np.ndarray) -> None:
        """Re-run the filter from the last observation over boxes interpolated to the new one."""
        r = self.rows(ids)
        if not len(r):
            return
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        gaps = np.asarray(gaps, dtype=np.int64).reshape(-1)
        virtual = interpolate_boxes(self.obs_box[r], boxes, gaps)  # (N, max gap, 4)
        mean, cov = self.obs_mean[r].copy(), self.obs_cov[r].copy()
        for k in range(virtual.shape[1]):
            active = gaps > k
            m, c = self.kf.predict(mean[active], cov[active])
            mean[active], cov[active] = self.kf.update(m, c, tlwh_to_xyah(virtual[active, k]))
        self.mean[r], self.cov[r] = mean, cov
        self._observed(r, boxes)

    def _observed(self, r: np.ndarray, boxes: np.ndarray) -> None:
        self.observed[r] = True
        self.obs_mean[r] = self.mean[r]
        self.obs_cov[r] = self.cov[r]
        self.obs_box[r] = boxes

    def warp(self, homography: np.ndarray) -> None:
        """BoT-SORT-style GMC with the exact camera rotation: the current state, the state at
        the last observation and the last observed box all move into the new image."""
        if not len(self.ids):
            return
        self.mean, self.cov = warp_kalman(self.mean, self.cov, homography)
        self.obs_mean, self.obs_cov = warp_kalman(self.obs_mean, self.obs_cov, homography)
        self.obs_box = warp_tlwh(self.obs_box, homography)

    def remove(self, ids: np.ndarray) -> None:
        keep = keep_rows(self.ids, ids)
        if keep.all():
            return
        for name in ("ids", "mean", "cov", "observed", "obs_mean", "obs_cov", "obs_box"):
            setattr(self, name, getattr(self, name)[keep])


def kalman_factory(cfg: KalmanConfig, checkpoint: str | None = None) -> MotionFactory:
    """A fresh filter per sequence, its velocity noise scaled to the sequence's frame rate
    (nothing to load: ``checkpoint`` is unused)."""
    return lambda info, seqinfo: cfg.motion(info.frame_rate)
