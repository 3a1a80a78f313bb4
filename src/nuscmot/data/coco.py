"""COCO detection sets from converted camera keyframes.

Images in (scene name, camera, timestamp) order with ids 1..M; annotations in image order,
then instance token, with ids 1..K. Images carry ``file_name`` (relative to the dataroot),
``width``, ``height``, ``scene_token``, ``scene_name``, ``sample_data_token``, ``camera``,
``frame_index`` (0-based keyframe index in the scene); annotations carry
``instance_token`` and ``visibility`` (nuScenes level 1-4) besides the COCO fields.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from nuscmot.data.classes import coco_categories
from nuscmot.data.records import ImageBoxes

DECIMALS = 3  # px; boxes are rounded for compact, stable JSON


def image_order(images: Sequence[ImageBoxes]) -> list[ImageBoxes]:
    return sorted(images, key=lambda im: (im.scene_name, im.camera, im.timestamp, im.sample_data_token))


def coco_dataset(images: Sequence[ImageBoxes], classes: Sequence[str], min_visibility: int, info: dict[str, Any]) -> dict[str, Any]:
    """A COCO dict of ``images`` keeping the boxes with visibility level >= ``min_visibility``."""
    out_images: list[dict[str, Any]] = []
    out_anns: list[dict[str, Any]] = []
    for image_id, im in enumerate(image_order(images), start=1):
        out_images.append(
            {
                "id": image_id,
                "file_name": im.file_name,
                "width": im.width,
                "height": im.height,
                "scene_token": im.scene_token,
                "scene_name": im.scene_name,
                "sample_data_token": im.sample_data_token,
                "camera": im.camera,
                "frame_index": im.frame_index,
                "timestamp": im.timestamp,
            }
        )
        for k in np.flatnonzero(im.visibility >= min_visibility):
            x1, y1, x2, y2 = (float(v) for v in im.xyxy[k])
            w, h = round(x2 - x1, DECIMALS), round(y2 - y1, DECIMALS)
            out_anns.append(
                {
                    "id": len(out_anns) + 1,
                    "image_id": image_id,
                    "category_id": int(im.class_ids[k]),
                    "bbox": [round(x1, DECIMALS), round(y1, DECIMALS), w, h],
                    "area": round(w * h, DECIMALS),
                    "iscrowd": 0,
                    "instance_token": im.instance_tokens[k],
                    "visibility": int(im.visibility[k]),
                }
            )
    return {
        "info": dict(info),
        "licenses": [],
        "images": out_images,
        "annotations": out_anns,
        "categories": coco_categories(classes),
    }
