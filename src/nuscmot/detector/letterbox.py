"""Letterboxing exactly as YOLOX's ``ValTransform`` does it, and the inverse box mapping.

YOLOX resizes the image by ``r = min(H / h, W / w)`` (keeping aspect), puts it at the
top-left of an ``H x W`` canvas filled with 114, and returns a float32 CHW array (BGR,
0..255). A box predicted on the canvas maps back to the image by dividing by ``r`` and
clipping to the image.
"""

from __future__ import annotations

import numpy as np

import nuscmot.detector  # noqa: F401  (makes yolox importable)
from yolox.data import ValTransform

_VAL = ValTransform(legacy=False)


def letterbox(img: np.ndarray, input_size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """``(CHW float32 canvas of input_size (h, w), ratio)`` for a BGR HxWx3 uint8 image."""
    canvas, _ = _VAL(img, None, tuple(input_size))
    return canvas, letterbox_ratio(img.shape[:2], input_size)


def letterbox_ratio(image_hw: tuple[int, int], input_size: tuple[int, int]) -> float:
    return min(input_size[0] / image_hw[0], input_size[1] / image_hw[1])


def boxes_to_image(boxes_xyxy: np.ndarray, ratio: float, image_hw: tuple[int, int]) -> np.ndarray:
    """Canvas ``(x1, y1, x2, y2)`` boxes -> original-image pixels (divide by ratio, clip)."""
    out = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4) / ratio
    h, w = image_hw
    out[:, 0::2] = out[:, 0::2].clip(0, w)
    out[:, 1::2] = out[:, 1::2].clip(0, h)
    return out
