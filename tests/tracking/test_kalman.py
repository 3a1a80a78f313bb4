"""Kalman filter: hand-computed predict/update, batching, the motion-model adapter."""

from __future__ import annotations

import numpy as np
import pytest

from nuscmot.tracking.boxes import tlwh_to_xyah, xyah_to_tlwh
from nuscmot.tracking.kalman import KalmanFilter, KalmanMotion

P, V = 1 / 20, 1 / 160  # ByteTrack's std weights


def test_initiate_hand_computed():
    mean, cov = KalmanFilter().initiate(np.array([[10.0, 20.0, 0.5, 40.0]]))
    np.testing.assert_allclose(mean[0], [10, 20, 0.5, 40, 0, 0, 0, 0])
    # std: 2 * 1/20 * h = 4 (positions, h), 1e-2 (aspect), 10 * 1/160 * h = 2.5 (velocities), 1e-5
    np.testing.assert_allclose(np.diag(cov[0]), [16, 16, 1e-4, 16, 6.25, 6.25, 1e-10, 6.25])
    assert np.count_nonzero(cov[0] - np.diag(np.diag(cov[0]))) == 0


def test_predict_and_update_hand_computed():
    kf = KalmanFilter()
    mean, cov = kf.initiate(np.array([[10.0, 20.0, 0.5, 40.0]]))
    mean, cov = kf.predict(mean, cov)
    # F P F^T: position variance += velocity variance; Q: (1/20 * 40)^2 = 4, (1/160 * 40)^2 = 0.0625
    np.testing.assert_allclose(mean[0], [10, 20, 0.5, 40, 0, 0, 0, 0])
    assert cov[0, 0, 0] == pytest.approx(16 + 6.25 + 4)
    assert cov[0, 0, 4] == pytest.approx(6.25)
    assert cov[0, 4, 4] == pytest.approx(6.25 + 0.0625)
    assert cov[0, 2, 2] == pytest.approx(1e-4 + 1e-10 + 1e-4)

    mean, cov = kf.update(mean, cov, np.array([[12.0, 20.0, 0.5, 40.0]]))
    s = 26.25 + 4.0  # innovation variance: predicted + (1/20 * 40)^2
    assert mean[0, 0] == pytest.approx(10 + 2 * 26.25 / s)
    assert mean[0, 4] == pytest.approx(2 * 6.25 / s)
    np.testing.assert_allclose(mean[0, [1, 2, 3, 5, 6, 7]], [20, 0.5, 40, 0, 0, 0], atol=1e-12)
    assert cov[0, 0, 0] == pytest.approx(26.25 * 4 / s)
    assert cov[0, 0, 4] == pytest.approx(6.25 * 4 / s)
    assert cov[0, 4, 4] == pytest.approx(6.3125 - 6.25**2 / s)


def test_batched_equals_row_by_row():
    rng = np.random.default_rng(0)
    kf = KalmanFilter(P, V)
    z = np.column_stack([rng.uniform(0, 800, 6), rng.uniform(0, 450, 6), rng.uniform(0.3, 2, 6), rng.uniform(10, 200, 6)])
    mean, cov = kf.initiate(z)
    for _ in range(3):
        mean, cov = kf.predict(mean, cov)
        mean, cov = kf.update(mean, cov, z + rng.normal(0, 2, z.shape))
    # one row alone gives the same result as inside the batch
    m1, c1 = kf.predict(mean[2:3], cov[2:3])
    mb, cb = kf.predict(mean, cov)
    np.testing.assert_allclose(m1[0], mb[2])
    np.testing.assert_allclose(c1[0], cb[2])
    np.testing.assert_allclose(cb, np.transpose(cb, (0, 2, 1)), atol=1e-9)  # stays symmetric


def test_constant_velocity_is_learned():
    motion = KalmanMotion()
    motion.start(np.array([1]), np.array([[100.0, 100.0, 20.0, 40.0]]))
    for k in range(1, 15):
        motion.predict(np.array([1]))
        motion.update(np.array([1]), np.array([[100.0 + 5 * k, 100.0, 20.0, 40.0]]))
    pred = motion.predict(np.array([1]))
    assert pred[0, 0] == pytest.approx(100 + 5 * 15, abs=0.5)


def test_reanchor_equals_rerun_on_interpolated_boxes():
    start = np.array([[100.0, 100.0, 20.0, 40.0]])
    new = np.array([[130.0, 106.0, 24.0, 44.0]])
    a = KalmanMotion()
    a.start(np.array([7]), start)
    for _ in range(3):  # lost for 2 frames, re-found on the 3rd
        a.predict(np.array([7]))
    a.reanchor(np.array([7]), new, np.array([3]))

    kf = KalmanFilter()
    mean, cov = kf.initiate(tlwh_to_xyah(start))
    for k in (1, 2, 3):
        mean, cov = kf.predict(mean, cov)
        mean, cov = kf.update(mean, cov, tlwh_to_xyah(start + k / 3 * (new - start)))
    np.testing.assert_allclose(a.mean[0], mean[0])
    np.testing.assert_allclose(a.cov[0], cov[0])


def test_motion_rows_ids_and_removal():
    m = KalmanMotion()
    m.start(np.array([1, 2, 5]), np.tile([[0.0, 0.0, 10.0, 20.0]], (3, 1)))
    m.remove(np.array([2]))
    np.testing.assert_array_equal(m.ids, [1, 5])
    assert m.predict(np.array([5, 1])).shape == (2, 4)
    with pytest.raises(KeyError):
        m.predict(np.array([2]))


def test_xyah_round_trip():
    b = np.array([[3.0, 4.0, 10.0, 20.0], [0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_allclose(xyah_to_tlwh(tlwh_to_xyah(b)), b)
