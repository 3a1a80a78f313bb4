"""YOLOX detector: config -> Exp, COCO-JSON data, device-agnostic training, evaluation, inference.

Importing this package makes ``yolox`` importable without torchvision (see :mod:`.nms`).
It never imports nuscenes-devkit or motmetrics.
"""

from nuscmot.detector.nms import ensure_yolox_importable

NMS_BACKEND = ensure_yolox_importable()
