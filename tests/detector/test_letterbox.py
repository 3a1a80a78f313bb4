"""Letterboxing as YOLOX's ValTransform, and the inverse box mapping."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nuscmot.detector.letterbox import boxes_to_image, letterbox, letterbox_ratio

sizes = st.tuples(st.integers(20, 300), st.integers(20, 300))
inputs = st.tuples(st.integers(1, 8).map(lambda k: 32 * k), st.integers(1, 12).map(lambda k: 32 * k))


@settings(max_examples=80, deadline=None)
@given(image_hw=sizes, input_size=inputs, data=st.data())
def test_inverse_mapping_recovers_boxes(image_hw, input_size, data):
    h, w = image_hw
    x1 = data.draw(st.floats(0, w - 1))
    y1 = data.draw(st.floats(0, h - 1))
    x2 = data.draw(st.floats(x1, w))
    y2 = data.draw(st.floats(y1, h))
    r = letterbox_ratio(image_hw, input_size)
    canvas_box = np.array([[x1, y1, x2, y2]]) * r  # where the network sees it
    back = boxes_to_image(canvas_box, r, image_hw)
    np.testing.assert_allclose(back, [[x1, y1, x2, y2]], rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(image_hw=sizes, input_size=inputs)
def test_boxes_are_clipped_to_the_image(image_hw, input_size):
    r = letterbox_ratio(image_hw, input_size)
    huge = np.array([[-50.0, -50.0, 10_000.0, 10_000.0]])
    back = boxes_to_image(huge, r, image_hw)
    assert back.tolist() == [[0.0, 0.0, float(image_hw[1]), float(image_hw[0])]]


@settings(max_examples=25, deadline=None)
@given(image_hw=st.tuples(st.integers(40, 200), st.integers(40, 200)), input_size=inputs)
def test_canvas_matches_yolox_layout(image_hw, input_size):
    """Resized image at the top-left, aspect kept, the rest filled with 114."""
    h, w = image_hw
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2, : w // 2] = 255  # bright top-left quadrant
    canvas, r = letterbox(img, input_size)
    assert canvas.shape == (3, *input_size) and canvas.dtype == np.float32
    assert r == min(input_size[0] / h, input_size[1] / w)
    rh, rw = int(h * r), int(w * r)
    assert np.all(canvas[:, rh:, :] == 114) and np.all(canvas[:, :, rw:] == 114)
    # a pixel well inside the bright quadrant maps to r * its position
    y, x = int(h * 0.25 * r), int(w * 0.25 * r)
    if rh >= 8 and rw >= 8:
        assert canvas[0, y, x] > 200
        assert canvas[0, min(rh - 1, int(h * 0.75 * r)), min(rw - 1, int(w * 0.75 * r))] < 50
