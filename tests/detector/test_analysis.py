"""evaluate_detector's analysis: recall at the tracking threshold per class and visibility, PR
curves, and the training curves read back from the trainer's log."""

from __future__ import annotations

import contextlib
import io

from nuscmot.detector.analysis import detection_analysis, training_curves

LOG = """\
[2026-12-05 07:20:22] phase 1: backbone frozen, 437,956 trainable parameters
[2026-12-05 07:20:24] epoch 1/2 phase 1: 3 it, 12 img, 1 s (16.9 img/s), lr 0.00262, loss 13.216 (iou 4.774 obj 7.625 cls 0.818 l1 0.000) | val AP50 0.1000 AP 0.0500 AP75 0.0200 AR100 0.3000 *best*
[2026-12-05 07:20:26] epoch 2/2 phase 2 no-aug: 3 it, 12 img, 1 s (12.8 img/s), lr 0.00025, loss 11.918 (iou 4.645 obj 6.301 cls 0.973 l1 0.100)
"""


def test_training_curves_come_from_the_trainers_log(tmp_path):
    path = tmp_path / "train_log.txt"
    path.write_text(LOG)
    first, second = training_curves(path)
    assert (first["epoch"], first["lr"], first["total_loss"], first["conf_loss"]) == (1, 0.00262, 13.216, 7.625)
    assert first["val"] == {"AP50": 0.1, "AP": 0.05, "AP75": 0.02, "AR100": 0.3}
    assert (second["epoch"], second["no_aug"], second["l1_loss"], second["val"]) == (2, True, 0.1, None)


def _coco():
    from pycocotools.coco import COCO

    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 400, "height": 200}],
           "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "pedestrian"}],
           "annotations": [
               {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 40], "area": 2000, "iscrowd": 0,
                "visibility": 4},
               {"id": 2, "image_id": 1, "category_id": 2, "bbox": [200, 20, 20, 60], "area": 1200, "iscrowd": 0,
                "visibility": 1}]}
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = doc
        coco.createIndex()
    return coco


def test_recall_is_counted_at_the_tracking_threshold_per_class_and_visibility():
    dets = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 40], "score": 0.9},
            {"image_id": 1, "category_id": 2, "bbox": [200, 20, 20, 60], "score": 0.05}]  # below 0.1
    out = detection_analysis(_coco(), dets, [1], conf_threshold=0.1)
    assert out["per_class_recall"]["car"]["recall"] == 1.0
    assert out["per_class_recall"]["pedestrian"] == {"boxes": 1, "found": 0, "recall": 0.0}
    assert out["recall_by_visibility"]["4"]["recall"] == 1.0 and out["recall_by_visibility"]["1"]["recall"] == 0.0
    assert out["recall_by_visibility"]["2"]["recall"] is None
    assert out["pr_curves"]["car"][0] == 1.0 and len(out["pr_curves"]["car"]) == 101
    # the pedestrian is found at the PR curve's own (lower) scores
    assert max(out["pr_curves"]["pedestrian"]) == 1.0
