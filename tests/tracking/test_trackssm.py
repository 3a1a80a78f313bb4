"""TrackSSM: selective scan vs a naive loop, model pieces, checkpoints, data windows, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nuscmot.common.errors import InputError
from support.simulate import simulate_trajectories
from nuscmot.tracking.trackssm.checkpoint import (TrainedOn, check_geometry, geometry_mismatch, load_checkpoint,
                                                  save_checkpoint)
from nuscmot.tracking.trackssm.config import TrackSSMMotionConfig
from nuscmot.tracking.trackssm.data import build_tracks, frame_rate, image_sizes, make_batch, read_trajectories, sample_index
from nuscmot.tracking.trackssm.model import CausalDepthwiseConv, ModelConfig, TrackSSM
from nuscmot.tracking.trackssm.motion import TrackSSMMotion
from nuscmot.tracking.trackssm.scan import selective_scan_loop, selective_scan_parallel, selective_scan_sequential, ssm_step
from nuscmot.tracking.trackssm.train import TrainConfig, batch_loss, heldout_metrics, to_tensors, train

TINY = ModelConfig(history=4, d_model=16, encoder_layers=1, decoder_layers=2, d_state=4, expand=1)
AT_2HZ = TrainedOn(2.0, ((800, 400),))


def _scan_inputs(seed, b, l, d, n, with_h0):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(b, l, d, generator=g, dtype=torch.float64)
    delta = torch.rand(b, l, d, generator=g, dtype=torch.float64) * 2
    A = -torch.rand(d, n, generator=g, dtype=torch.float64) * 8
    B = torch.randn(b, l, n, generator=g, dtype=torch.float64)
    C = torch.randn(b, l, n, generator=g, dtype=torch.float64)
    D = torch.randn(d, generator=g, dtype=torch.float64)
    h0 = torch.randn(b, d, n, generator=g, dtype=torch.float64) if with_h0 else None
    return u, delta, A, B, C, D, h0


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    b=st.integers(1, 4),
    l=st.integers(1, 9),
    d=st.integers(1, 6),
    n=st.integers(1, 5),
    with_h0=st.booleans(),
)
def test_selective_scans_equal_the_naive_loop(seed, b, l, d, n, with_h0):
    args = _scan_inputs(seed, b, l, d, n, with_h0)
    y_ref, h_ref = selective_scan_loop(*args)
    for scan in (selective_scan_sequential, selective_scan_parallel):
        y, h = scan(*args)
        torch.testing.assert_close(y, y_ref, rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(h, h_ref, rtol=1e-9, atol=1e-9)


def test_ssm_step_is_a_length_one_scan():
    u, delta, A, B, C, D, h0 = _scan_inputs(1, 3, 1, 5, 4, True)
    y_ref, h_ref = selective_scan_loop(u, delta, A, B, C, D, h0)
    y, h = ssm_step(u[:, 0], delta[:, 0], A, B[:, 0], C[:, 0], D, h0)
    torch.testing.assert_close(y, y_ref[:, 0])
    torch.testing.assert_close(h, h_ref)


def test_causal_conv_equals_conv1d():
    conv = CausalDepthwiseConv(6, 4)
    ref = torch.nn.Conv1d(6, 6, 4, groups=6, padding=3)
    with torch.no_grad():
        ref.weight.copy_(conv.weight[:, None, :])
        ref.bias.copy_(conv.bias)
    x = torch.randn(2, 5, 6)
    torch.testing.assert_close(conv(x), ref(x.transpose(1, 2))[..., :5].transpose(1, 2))


def test_untrained_model_predicts_constant_position_and_layers_refine():
    model = TrackSSM(TINY)
    hist = torch.rand(7, TINY.history, 4) * 0.5 + 0.25
    boxes, offsets = model(hist)
    assert len(boxes) == TINY.decoder_layers
    torch.testing.assert_close(boxes[-1], hist[:, -1])
    assert all(o.shape == (7, 4) for o in offsets)


def test_model_config_rejects_bad_d_model():
    with pytest.raises(ValueError, match="multiple of 8"):
        ModelConfig(d_model=12)


def test_checkpoint_round_trip_and_errors(tmp_path):
    model = TrackSSM(TINY)
    with torch.no_grad():
        model.decoder[0].head.bias.fill_(0.5)
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, AT_2HZ, meta={"k": 1})
    loaded, trained_on, meta = load_checkpoint(path)
    assert meta == {"k": 1} and loaded.cfg == TINY and trained_on == AT_2HZ
    hist = torch.rand(3, TINY.history, 4)
    torch.testing.assert_close(loaded.predict(hist), model.predict(hist))

    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(InputError, match="junk.pt"):
        load_checkpoint(junk)
    other = tmp_path / "other.pt"
    torch.save({"weights": 1}, other)
    with pytest.raises(InputError, match="format tag"):
        load_checkpoint(other)
    payload = torch.load(path, weights_only=True)
    payload["model"]["d_model"] = 24  # weights from a different config
    torch.save(payload, other)
    with pytest.raises(InputError, match="other.pt.*do not match"):
        load_checkpoint(other)
    with pytest.raises(InputError, match="missing"):
        load_checkpoint(tmp_path / "absent.pt")


def test_checkpoint_records_what_the_model_was_trained_on(tmp_path):
    model = TrackSSM(TINY)
    model.set_statistics(np.arange(8) / 10, np.ones(8), [0.01, 0.02, 0.003, 0.004])
    path, other = tmp_path / "m.pt", tmp_path / "other.pt"
    save_checkpoint(path, model, TrainedOn(2.0, ((800, 400), (1600, 900))))
    payload = torch.load(path, weights_only=True)
    assert payload["version"] == 2 and payload["trained_on"]["frame_rate"] == 2.0
    assert payload["trained_on"]["image_sizes"] == [[800, 400], [1600, 900]]
    norm = payload["trained_on"]["normalisation"]
    assert norm["boxes"] == "cxcywh / image size" and norm["offset_scale"] == pytest.approx([0.01, 0.02, 0.003, 0.004])
    for edit, match in [
        (lambda p: p.update(version=1), "version 1 records no frame rate or image size; retrain"),
        (lambda p: p.pop("trained_on"), "no valid trained_on record"),
        (lambda p: p["trained_on"].update(frame_rate=0), "no valid trained_on record"),
        (lambda p: p["trained_on"].update(image_sizes=[]), "no valid trained_on record"),
        (lambda p: p["trained_on"]["normalisation"].update(boxes="xyxy / 1000"), "normalises boxes as 'xyxy / 1000'"),
    ]:
        broken = torch.load(path, weights_only=True)
        edit(broken)
        torch.save(broken, other)
        with pytest.raises(InputError, match=match) as err:
            load_checkpoint(other)
        assert str(err.value).startswith(str(other)) and "\n" not in str(err.value)


def test_geometry_mismatch_names_rate_and_size():
    trained = TrainedOn(2.0, ((1600, 900), (800, 450)))
    assert geometry_mismatch(trained, 2.0, 800, 450) is None
    assert geometry_mismatch(trained, 2.04, 1600, 900) is None  # nuScenes keyframes: 2 Hz on average
    assert geometry_mismatch(trained, 10.0, 800, 450) == "frameRate 10 Hz but the TrackSSM model was trained at 2 Hz"
    both = geometry_mismatch(trained, 12.0, 1242, 375)
    assert "frameRate 12 Hz" in both and "image size 1242x375 but the TrackSSM model was trained on 1600x900, 800x450" in both


def test_a_size_within_the_tolerance_counts_as_the_training_size():
    kitti = TrainedOn(10.0, ((1242, 375),))
    assert geometry_mismatch(kitti, 10.0, 1238, 374, size_tolerance=0.01) is None  # 0.3% per side
    assert geometry_mismatch(kitti, 10.0, 1238, 374) == "image size 1238x374 but the TrackSSM model was trained on 1242x375"
    far = geometry_mismatch(kitti, 10.0, 1224, 370, size_tolerance=0.01)  # 1.4% narrower
    assert far == "image size 1224x370 but the TrackSSM model was trained on 1242x375, beyond size_tolerance 0.01"


def _seq(width, height, rate=10.0):
    from nuscmot.common.mot import SeqInfo

    return SeqInfo(name="0001", length=5, width=width, height=height, frame_rate=rate)


def test_check_geometry_names_the_override_of_each_problem(tmp_path, caplog):
    caplog.set_level("INFO")
    kitti, ini = TrainedOn(10.0, ((1242, 375),)), tmp_path / "0001" / "seqinfo.ini"
    check_geometry(kitti, _seq(1238, 374), ini, TrackSSMMotionConfig(), "m.pt")
    assert "within size_tolerance 0.01 of the training size 1242x375" in caplog.text
    with pytest.raises(InputError) as err:
        check_geometry(kitti, _seq(1600, 900), ini, TrackSSMMotionConfig(allow_rate_mismatch=True), "m.pt")
    assert str(err.value) == (f"{ini}: image size 1600x900 but the TrackSSM model was trained on 1242x375, beyond "
                              "size_tolerance 0.01 (m.pt); retrain TrackSSM on such data or set "
                              "tracking.motion.trackssm.allow_size_mismatch: true")
    with pytest.raises(InputError, match=r"frameRate 2 Hz .* set tracking\.motion\.trackssm\.allow_rate_mismatch: true$"):
        check_geometry(kitti, _seq(1242, 375, 2.0), ini, TrackSSMMotionConfig(allow_size_mismatch=True), "m.pt")
    with pytest.raises(InputError, match=r"allow_rate_mismatch: true and tracking\.motion\.trackssm\.allow_size_mismatch"):
        check_geometry(kitti, _seq(1600, 900, 2.0), ini, TrackSSMMotionConfig(), "m.pt")
    check_geometry(kitti, _seq(1600, 900, 2.0), ini,
                   TrackSSMMotionConfig(allow_rate_mismatch=True, allow_size_mismatch=True), "m.pt")
    assert "tracking anyway (allow_size_mismatch)" in caplog.text
    with pytest.raises(InputError, match=r"tracking\.motion\.trackssm \[size_tolerance\]"):
        TrackSSMMotionConfig(size_tolerance=-0.1)


def test_motion_adapter_history_protocol():
    model = TrackSSM(TINY)  # untrained: predicts the last history box
    m = TrackSSMMotion(model, 800, 400, rollout_horizon=5)
    m.start(np.array([3]), np.array([[100.0, 100.0, 20.0, 40.0]]))
    np.testing.assert_allclose(m.hist[0], np.tile([110 / 800, 120 / 400, 20 / 800, 40 / 400], (4, 1)))
    pred = m.predict(np.array([3]))
    np.testing.assert_allclose(pred[0], [100, 100, 20, 40], atol=1e-3)
    m.update(np.array([3]), np.array([[108.0, 100.0, 20.0, 40.0]]))
    assert m.hist[0, -1, 0] == pytest.approx(118 / 800)
    m.predict(np.array([3]))
    m.predict(np.array([3]))  # two frames without observation: rolls forward on predictions
    m.reanchor(np.array([3]), np.array([[138.0, 100.0, 20.0, 40.0]]), np.array([3]))
    # history = last observation, then boxes interpolated to the new one (gap of 3 frames)
    np.testing.assert_allclose(m.hist[0, :, 0] * 800, [118.0, 128.0, 138.0, 148.0])
    np.testing.assert_allclose(m.obs_hist[0], m.hist[0])


def drifting_model() -> TrackSSM:
    """An untrained model whose every prediction moves the box 8 px right (at 800 px width)
    and grows it: the last decoder layer's head outputs a constant offset."""
    model = TrackSSM(TINY)
    model.set_statistics(np.zeros(8), np.ones(8), [0.01, 0.01, 0.01, 0.01])
    with torch.no_grad():
        model.decoder[-1].head.bias.copy_(torch.tensor([1.0, 0.0, 0.5, 0.5]))
    return model


@pytest.mark.parametrize("fallback", ["hold", "constant_velocity"])
def test_lost_tracks_roll_out_the_model_up_to_the_horizon(fallback):
    m = TrackSSMMotion(drifting_model(), 800, 400, rollout_horizon=3, rollout_fallback=fallback)
    m.start(np.array([1]), np.array([[100.0, 100.0, 20.0, 40.0]]))
    preds = np.array([m.predict(np.array([1]))[0] for _ in range(6)])  # lost from the first frame
    cx = preds[:, 0] + preds[:, 2] / 2
    np.testing.assert_allclose(np.diff(cx[:3]), 8.0, atol=1e-3)  # steps 1-3: the model
    assert preds[2, 2] > 20.0 + 3 * 0.5 * 0.01 * 800 - 0.1  # ... which also grows the box
    np.testing.assert_allclose(preds[3:, 2:], np.repeat(preds[2:3, 2:], 3, axis=0))  # then the size is held
    expected = 0.0 if fallback == "hold" else 8.0
    np.testing.assert_allclose(np.diff(cx[2:]), expected, atol=1e-3)
    # an observation restarts the count: the model predicts again
    m.update(np.array([1]), np.array([[100.0, 100.0, 20.0, 40.0]]))
    again = m.predict(np.array([1]))[0]
    assert again[0] + again[2] / 2 == pytest.approx(110.0 + 8.0, abs=1e-3)


def test_rollout_horizon_per_track_in_one_batch():
    m = TrackSSMMotion(drifting_model(), 800, 400, rollout_horizon=1)
    m.start(np.array([1]), np.array([[100.0, 100.0, 20.0, 40.0]]))
    m.predict(np.array([1]))
    m.start(np.array([2]), np.array([[300.0, 100.0, 20.0, 40.0]]))  # track 1 has missed a frame
    pred = m.predict(np.array([1, 2]))
    cx = pred[:, 0] + pred[:, 2] / 2
    np.testing.assert_allclose(cx, [118.0, 318.0], atol=1e-3)  # 1: held at its 1-step prediction; 2: model


@pytest.mark.parametrize("cfg,key", [({"rollout_horizon": 0}, "rollout_horizon"), ({"rollout_fallback": "kalman"},
                                     "rollout_fallback"), ({"device": "tpu"}, "device")])
def test_motion_config_errors(cfg, key):
    with pytest.raises(InputError, match=key):
        TrackSSMMotionConfig(**cfg)


def test_traced_predictor_equals_eager():
    torch.manual_seed(0)
    model = TrackSSM(TINY)
    with torch.no_grad():
        for layer in model.decoder:
            layer.head.weight.normal_(0, 0.1)
    hist = torch.rand(9, TINY.history, 4) * 0.5 + 0.25
    torch.testing.assert_close(model.traced_predictor("cpu")(hist), model.predict(hist))
    torch.testing.assert_close(model.traced_predictor("cpu")(hist[:1]), model.predict(hist[:1]))


def test_data_windows_pad_short_tracks_and_interpolate_gaps():
    import pandas as pd

    df = pd.DataFrame({
        "track_id": [1, 1, 1, 2, 2],
        "frame": [1, 2, 4, 1, 2],
        "img_w": 100, "img_h": 50,
        "x": [0.0, 10.0, 30.0, 50.0, 50.0], "y": 10.0, "w": 10.0, "h": 10.0,
        "class_id": [1, 1, 1, 5, 5],
    })
    table = build_tracks(df)
    assert table.length.tolist() == [4, 2]
    assert table.observed.tolist() == [True, True, False, True, True, True]
    np.testing.assert_allclose(table.boxes[2, 0], 0.25)  # frame 3 interpolated: x = 20 -> cx = 25 / 100
    samples = sample_index(table)
    assert samples.tolist() == [[0, 1], [0, 3], [1, 1]]  # observed positions with a predecessor
    b = make_batch(table, samples, before=3, after=2, history=3, jitter=0.0, drop_prob=0.0, shift_prob=0.0,
                   rng=np.random.default_rng(0))
    # the 2-frame track (a short one) is kept, its history padded with its first box
    np.testing.assert_allclose(b.history[2, :, 0], [0.55, 0.55, 0.55])
    assert b.real[2].tolist() == [False, False, True]
    assert b.target_valid[2].tolist() == [True, False]
    assert b.after_gap.tolist() == [False, True, False]


@pytest.mark.slow
def test_trained_tiny_trackssm_beats_constant_position():
    cfg = TrainConfig(history=4, d_model=16, encoder_layers=1, decoder_layers=2, d_state=4, expand=1,
                      batch_size=128, epochs=10, lr=0.01, rollout_steps=2, patience=3)
    tr = build_tracks(simulate_trajectories(0, 16, 20, 10))
    va = build_tracks(simulate_trajectories(1, 4, 20, 10))
    model, report = train(cfg, tr, va, progress=False)
    assert report["best_epoch"] >= 1
    overall = heldout_metrics(model, va, cfg, frame_rate=2.0)["overall"]
    # measured (3 seeds): 0.56-0.58 vs 0.40-0.41 (1-step), 0.32-0.34 vs 0.21 (3-step)
    assert overall["trackssm"]["iou_1step"] > overall["constant_position"]["iou_1step"] + 0.08
    assert overall["trackssm"]["iou_3step"] > overall["constant_position"]["iou_3step"] + 0.05


def test_heldout_kalman_is_the_trackers_rate_scaled_filter():
    """The held-out report's Kalman filter is the one run_tracker runs: the KalmanConfig slice with
    its velocity noise scaled to the data's frame rate (0.363 at 2 Hz), not ByteTrack's unscaled 1/160."""
    from nuscmot.tracking.kalman import KalmanConfig

    cfg = TrainConfig(history=4, d_model=8, encoder_layers=1, decoder_layers=1, d_state=2, expand=1)
    model = TrackSSM(cfg.model_config())
    va = build_tracks(simulate_trajectories(1, 4, 20, 10))
    at_2hz = heldout_metrics(model, va, cfg, frame_rate=2.0)
    assert at_2hz["kalman"]["std_weight_velocity"] == pytest.approx(KalmanConfig().velocity_weight(2.0))
    assert at_2hz["kalman"]["std_weight_velocity"] == pytest.approx(0.363, abs=1e-3)
    unscaled = heldout_metrics(model, va, cfg, frame_rate=2.0, kalman=KalmanConfig(reference_rate=0))
    at_30hz = heldout_metrics(model, va, cfg, frame_rate=30.0)
    assert unscaled["kalman"]["std_weight_velocity"] == at_30hz["kalman"]["std_weight_velocity"] == 1 / 160
    assert unscaled["overall"]["kalman"] == at_30hz["overall"]["kalman"] != at_2hz["overall"]["kalman"]
    assert unscaled["overall"]["trackssm"] == at_2hz["overall"]["trackssm"]  # only the filter changed
    own = heldout_metrics(model, va, cfg, frame_rate=2.0, kalman=KalmanConfig(std_weight_velocity=0.01))
    assert own["kalman"]["std_weight_velocity"] == pytest.approx(0.01 * 15 ** 1.5)


def test_augmentation_gaps_rollouts_and_shift():
    table = build_tracks(simulate_trajectories(3, 3, 30, 6))
    samples = sample_index(table)
    samples = samples[samples[:, 1] >= 8]  # full histories
    kw = dict(before=5, after=3, history=5, jitter=0.0, rng=np.random.default_rng(0))
    b = make_batch(table, samples, drop_prob=1.0, shift_prob=0.0, rollout_gap=None, **kw)
    assert b.after_gap.all()  # every history has a 1-3 frame gap ...
    clean = make_batch(table, samples, drop_prob=0.0, shift_prob=0.0, **kw)
    changed = ~np.isclose(b.history, clean.history).all(axis=2)
    assert not changed[:, -1].any() and changed[:, 1:4].any()  # ... never at the newest entry
    assert (~b.feed_obs[:, 0]).all()  # and a dropped run at the start of every rollout
    forced = make_batch(table, samples, drop_prob=0.0, shift_prob=0.0, rollout_gap=2, **kw)
    assert (~forced.feed_obs[:, :2]).all()
    shifted = make_batch(table, samples, drop_prob=0.0, shift_prob=1.0, **kw)
    x1 = shifted.target[..., 0] - shifted.target[..., 2] / 2
    x2 = shifted.target[..., 0] + shifted.target[..., 2] / 2
    v = shifted.target_valid
    assert (x1[v] >= -1e-9).all() and (x2[v] <= 1 + 1e-9).all()  # clipped to the image ...
    assert (~shifted.target_valid).sum() > (~clean.target_valid).sum()  # ... some left it


def test_trajectory_frame_rate_and_image_sizes(tmp_path):
    df = simulate_trajectories(0, 2, 10, 6)  # 2 Hz keyframes, 800x450
    assert frame_rate(df, "t.parquet") == pytest.approx(2.0) and image_sizes(df) == ((800, 450),)
    faster = df.assign(timestamp=df["timestamp"] // 6, img_w=np.where(df["track_id"] == 1, 1600, 800))
    assert frame_rate(faster, "t.parquet") == pytest.approx(12.0, rel=1e-4)  # 83,333 us steps
    assert image_sizes(faster) == ((800, 450), (1600, 450))
    with pytest.raises(InputError, match="t.parquet: timestamps do not increase"):
        frame_rate(df.assign(timestamp=-df["timestamp"]), "t.parquet")
    with pytest.raises(InputError, match="no track with two frames"):
        frame_rate(df.drop_duplicates("track_id"), "t.parquet")
    path = tmp_path / "no_time.parquet"
    df.drop(columns="timestamp").to_parquet(path)
    with pytest.raises(InputError, match="missing column.*timestamp"):
        read_trajectories(path)


@pytest.mark.parametrize("head,loss", [("residual", "smooth_l1_giou"), ("absolute", "smooth_l1_giou"),
                                       ("absolute", "published"), ("residual", "published")])
def test_heads_and_losses_train(head, loss):
    """Every head/loss pair gives a finite loss with gradients into the head, and a few steps lower it."""
    cfg = TrainConfig(history=4, d_model=16, encoder_layers=1, decoder_layers=2, d_state=4, expand=1, head=head, loss=loss)
    table = build_tracks(simulate_trajectories(2, 3, 20, 8))
    samples = sample_index(table)
    batch = make_batch(table, samples[:128], before=4, after=2, history=4, jitter=0.0, drop_prob=0.0, shift_prob=0.0,
                       rng=np.random.default_rng(0))
    torch.manual_seed(0)
    model = TrackSSM(cfg.model_config())
    t = to_tensors(batch, 4, torch.device("cpu"))
    opt = torch.optim.Adam(model.parameters(), lr=0.003)
    losses = []
    for _ in range(15):
        loss_value = batch_loss(model, t, 2, loss)
        opt.zero_grad()
        loss_value.backward()
        assert model.decoder[-1].head.weight.grad.abs().sum() > 0
        opt.step()
        losses.append(float(loss_value.detach()))
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_absolute_head_predicts_the_box_through_a_sigmoid():
    model = TrackSSM(ModelConfig(**{**TINY.to_dict(), "head": "absolute"}))
    hist = torch.rand(5, TINY.history, 4) * 0.5 + 0.25
    boxes, raws = model(hist)
    torch.testing.assert_close(boxes[-1], torch.sigmoid(raws[-1]).clamp_min(1e-4))
    with pytest.raises(InputError, match="head"):
        TrainConfig(head="relative")
    with pytest.raises(InputError, match="loss"):
        TrainConfig(loss="l2")
