"""Truncated images are errors naming the file (issue 18, item 7), in the one image reader of
the detector stages and in convert's check of every image it uses."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from nuscmot.common.errors import InputError
from nuscmot.common.images import check_image_tail, decode_image


def textured(h: int = 450, w: int = 800) -> np.ndarray:
    rng = np.random.default_rng(0)
    return cv2.GaussianBlur((rng.random((h, w, 3)) * 255).astype(np.uint8), (15, 15), 5)


@pytest.fixture()
def jpeg(tmp_path):
    path = tmp_path / "frame.jpg"
    path.write_bytes(cv2.imencode(".jpg", textured(), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return path


def test_cv2_returns_a_truncated_jpeg_as_a_whole_frame(jpeg):
    """The issue's premise: libjpeg only warns, so a check of ``img is None`` passes it."""
    jpeg.write_bytes(jpeg.read_bytes()[:3000])
    img = cv2.imread(str(jpeg), cv2.IMREAD_COLOR)
    assert img is not None and img.shape == (450, 800, 3)


def test_truncated_jpeg_and_png_are_refused(jpeg, tmp_path):
    whole = jpeg.read_bytes()
    assert check_image_tail(jpeg) is None and decode_image(jpeg)[1] == ""
    jpeg.write_bytes(whole[:3000])
    assert check_image_tail(jpeg) == "truncated JPEG (no end-of-image marker FF D9)"
    assert decode_image(jpeg) == (None, "cannot decode image: truncated JPEG (no end-of-image marker FF D9)")
    png = tmp_path / "frame.png"
    data = cv2.imencode(".png", textured())[1].tobytes()
    png.write_bytes(data)
    assert check_image_tail(png) is None and decode_image(png)[0] is not None
    png.write_bytes(data[: len(data) // 2])
    assert check_image_tail(png) == "truncated PNG (no IEND chunk)"
    assert decode_image(png)[0] is None


def test_whole_jpeg_decodes_as_imread_does_and_zero_padding_is_allowed(jpeg):
    img, problem = decode_image(jpeg)
    assert problem == "" and np.array_equal(img, cv2.imread(str(jpeg), cv2.IMREAD_COLOR))
    jpeg.write_bytes(jpeg.read_bytes() + b"\x00" * 16)
    assert check_image_tail(jpeg) is None and np.array_equal(decode_image(jpeg)[0], img)


def test_missing_empty_and_undecodable_files(tmp_path):
    missing = tmp_path / "missing.jpg"
    assert check_image_tail(missing).startswith("cannot read image (")
    assert decode_image(missing)[1].startswith("cannot read image (")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert decode_image(empty) == (None, "cannot decode image")
    noise = tmp_path / "noise.jpg"
    noise.write_bytes(np.random.default_rng(1).bytes(5000))
    assert check_image_tail(noise) is None and decode_image(noise) == (None, "cannot decode image")


def test_detector_readers_name_the_truncated_file(jpeg):
    from nuscmot.detector.data import ImageFilesDataset, SampleError, read_image

    jpeg.write_bytes(jpeg.read_bytes()[:3000])
    with pytest.raises(InputError, match=rf"^{jpeg}: cannot decode image: truncated JPEG"):
        read_image(jpeg)
    sample = ImageFilesDataset([jpeg], (64, 96))[0]
    assert isinstance(sample, SampleError)
    assert str(sample.error()) == f"{jpeg}: cannot decode image: truncated JPEG (no end-of-image marker FF D9)"
