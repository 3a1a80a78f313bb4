"""COCO metrics through pycocotools on our JSON."""

from __future__ import annotations

import numpy as np
import pytest

from nuscmot.detector.data import load_coco
from nuscmot.detector.evaluate import coco_detections, coco_metrics
from nuscmot.detector.predict import Detections


def as_detections(coco, image_ids, shift=0.0, drop_class=None):
    dets = []
    for k, img_id in enumerate(image_ids):
        anns = [a for a in coco.imgToAnns.get(img_id, []) if a["category_id"] != drop_class]
        boxes = np.array([[a["bbox"][0] + shift, a["bbox"][1], a["bbox"][0] + shift + a["bbox"][2],
                           a["bbox"][1] + a["bbox"][3]] for a in anns]).reshape(-1, 4)
        classes = np.array([a["category_id"] - 1 for a in anns], dtype=np.int64)
        dets.append(Detections(k, boxes, np.full(len(anns), 0.9), classes, (96, 160)))
    return coco_detections(coco, image_ids, dets)


def test_perfect_detections_score_one(toy_coco):
    coco = load_coco(toy_coco.val, 7)
    ids = sorted(coco.getImgIds())
    m = coco_metrics(coco, as_detections(coco, ids), ids)
    assert m["AP"] == pytest.approx(1.0) and m["AP50"] == pytest.approx(1.0) and m["AR100"] == pytest.approx(1.0)
    present = {coco.cats[a["category_id"]]["name"] for a in coco.anns.values()}
    for name, ap in m["per_class_AP50"].items():
        assert ap == (pytest.approx(1.0) if name in present else None)


def test_missing_class_and_shifted_boxes_lower_the_scores(toy_coco):
    coco = load_coco(toy_coco.val, 7)
    ids = sorted(coco.getImgIds())
    first = coco.anns[min(coco.anns)]["category_id"]
    m = coco_metrics(coco, as_detections(coco, ids, drop_class=first), ids)
    assert m["per_class_AP50"][coco.cats[first]["name"]] == 0.0 and m["AP50"] < 1.0
    shifted = coco_metrics(coco, as_detections(coco, ids, shift=6.0), ids)
    assert shifted["AP75"] < shifted["AP50"] <= 1.0


def test_no_detections_is_zero_not_an_error(toy_coco):
    coco = load_coco(toy_coco.val, 7)
    ids = sorted(coco.getImgIds())
    m = coco_metrics(coco, [], ids)
    assert m["AP50"] == 0.0 and m["detections"] == 0


def test_metrics_md_says_whether_the_checkpoint_was_a_capped_run():
    """The line under the title: the caps the run was shortened by, uncapped, or not recorded."""
    from nuscmot.detector.config import DetectorConfig
    from nuscmot.detector.evaluate import markdown
    from nuscmot.detector.training.caps import run_caps

    cfg = DetectorConfig(max_iters_per_epoch=75, max_val_images=240, max_train_images=5000)
    capped = run_caps(cfg, train_total=2880, train_used=2880, batches=360, iters=75, images_per_iter=8, val_total=960)
    assert capped["caps"] == {"max_iters_per_epoch": 75, "max_val_images": 240}  # 5000 of 2880 leaves nothing out
    uncapped = run_caps(DetectorConfig(max_iters_per_epoch=400), train_total=2880, train_used=2880, batches=360,
                        iters=360, images_per_iter=8, val_total=960)
    assert uncapped["caps"] == {}
    split = {"images": 1, "AP": 0.1, "AP50": 0.2, "AP75": 0.0, "AR100": 0.3, "per_class_AP50": {"car": 0.2}}
    lines = {}
    for name, training in (("capped", capped), ("uncapped", uncapped), ("old", None)):
        result = {"checkpoint": {"model": "yolox_nano", "epoch": 4, "training": training},
                  "splits": {"val": split, "test_front": split}}
        lines[name] = markdown(result).splitlines()[2]
    assert lines["capped"] == ("CAPPED RUN (not the full recipe): max_iters_per_epoch 75 (600 of 2,880 images an "
                               "epoch), max_val_images 240 (240 of 960 val images in the in-training evaluation)")
    assert lines["uncapped"].startswith("Training: uncapped")
    assert lines["old"].startswith("Training caps: not recorded in this checkpoint")
