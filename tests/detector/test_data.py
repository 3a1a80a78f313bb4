"""Training labels from COCO JSON: YOLOX's (x1, y1, x2, y2, class) rows at the resized scale."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from nuscmot.detector.data import CocoJsonDataset

from .helpers import CLASSES


def one_image_coco(tmp_path, boxes, size=(100, 200)):
    h, w = size
    (tmp_path / "img.jpg").write_bytes(cv2.imencode(".jpg", np.zeros((h, w, 3), np.uint8))[1].tobytes())
    anns = [{"id": k + 1, "image_id": 1, "category_id": c, "bbox": b, "area": b[2] * b[3], "iscrowd": 0}
            for k, (b, c) in enumerate(boxes)]
    doc = {"images": [{"id": 1, "file_name": "img.jpg", "width": w, "height": h}], "annotations": anns,
           "categories": [{"id": i + 1, "name": n} for i, n in enumerate(CLASSES)]}
    path = tmp_path / "one.json"
    path.write_text(json.dumps(doc))
    return path


def test_labels_are_clipped_to_the_image_and_scaled(tmp_path):
    boxes = [([10, 20, 30, 40], 1),      # inside
             ([-10, 90, 30, 20], 5),     # sticks out left and bottom: far corner stays at x=20
             ([190, 0, 30, 10], 7),      # sticks out right
             ([50, 50, 0, 10], 2),       # empty: dropped
             ([-40, 10, 20, 20], 3)]     # wholly outside: dropped
    ds = CocoJsonDataset(one_image_coco(tmp_path, boxes), tmp_path, (50, 100), 7)
    rows = ds.load_anno(0)
    assert rows.tolist() == pytest.approx(np.array([
        [10, 20, 40, 60, 0], [0, 90, 20, 100, 4], [190, 0, 200, 10, 6]]) * [0.5, 0.5, 0.5, 0.5, 1])
    img, labels, info, ids = ds.pull_item(0)
    assert img.shape == (50, 100, 3) and info == (100, 200) and ids.tolist() == [1]
    assert labels.tolist() == rows.tolist()
