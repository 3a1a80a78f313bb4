"""AP@0.5 and AR@100 of a source's MOT detections on the CAM_FRONT test frames (pycocotools).

A MOT frame is mapped to its COCO image through the image file: ``<mot>/<seq>/img1.txt`` lists
each frame's image path (relative to the dataroot, frame order), and every image of
``test_front.json`` carries its ``file_name`` (the same path), ``scene_name`` and ``camera``. A
frame whose image is not in the COCO file, or whose COCO image belongs to another scene, is an
error naming ``img1.txt`` and the line; so is a sequence spread over several cameras.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.mot import read_image_list, read_seqinfo

FrameKey = tuple[str, int]  # (sequence, 1-based frame)


def coco_images_by_file(images: Sequence[Mapping[str, Any]], path: Path) -> dict[str, Mapping[str, Any]]:
    """COCO images by ``file_name`` (each file once)."""
    out: dict[str, Mapping[str, Any]] = {}
    for im in images:
        if im["file_name"] in out:
            raise InputError(path, f"image file {im['file_name']} appears twice (ids {out[im['file_name']]['id']}, {im['id']})")
        out[im["file_name"]] = im
    return out


def sequence_images(seq_dir: Path, by_file: Mapping[str, Mapping[str, Any]]) -> list[int]:
    """The COCO image id of every frame of one sequence (index = frame - 1)."""
    name = seq_dir.name
    info = read_seqinfo(seq_dir / "seqinfo.ini")
    listing = seq_dir / "img1.txt"
    files = read_image_list(listing)
    if len(files) != info.length:
        raise InputError(listing, f"{len(files)} images but seqinfo.ini says seqLength={info.length}")
    ids, cameras = [], set()
    for line, file in enumerate(files, start=1):
        im = by_file.get(file)
        if im is None:
            raise InputError(listing, f"image {file} of frame {line} is not in the COCO test set", line=line)
        if im.get("scene_name", name) != name:
            raise InputError(listing, f"image {file} belongs to scene {im['scene_name']} in the COCO test set, "
                                      f"not {name}", line=line)
        cameras.add(im.get("camera"))
        ids.append(int(im["id"]))
    if len(cameras) > 1:
        raise InputError(listing, f"frames of several cameras ({', '.join(sorted(map(str, cameras)))})")
    return ids


def frame_image_ids(coco_images: Sequence[Mapping[str, Any]], coco_path: Path, mot_dir: Path,
                    names: Sequence[str]) -> dict[str, list[int]]:
    """Per sequence, the COCO image id of each frame (index = frame - 1)."""
    by_file = coco_images_by_file(coco_images, coco_path)
    return {name: sequence_images(Path(mot_dir) / name, by_file) for name in names}


def coco_results(dets: Mapping[str, np.ndarray], image_ids: Mapping[str, list[int]],
                 cat_ids: Sequence[int]) -> list[dict[str, Any]]:
    """MOT det rows per sequence -> COCO result dicts (class c -> the c-th category id)."""
    out = []
    for name, rows in dets.items():
        ids = image_ids[name]
        for r in rows:
            out.append({"image_id": ids[int(r[0]) - 1], "category_id": int(cat_ids[int(r[7]) - 1]),
                        "bbox": [float(r[2]), float(r[3]), float(r[4]), float(r[5])], "score": float(r[6])})
    return out


def coco_scores(coco, dets: Mapping[str, np.ndarray], image_ids: Mapping[str, list[int]]) -> dict[str, Any]:
    """AP@0.5, AP@[.5:.95], AR@100 over every mapped frame, and AP@0.5 / AR@100 per sequence."""
    from nuscmot.detector.evaluate import coco_metrics

    results = coco_results(dets, image_ids, sorted(coco.getCatIds()))
    all_ids = [i for ids in image_ids.values() for i in ids]
    overall = coco_metrics(coco, results, all_ids)
    overall.pop("summary", None)
    per_sequence = {}
    for name, ids in image_ids.items():
        mine = set(ids)
        m = coco_metrics(coco, [r for r in results if r["image_id"] in mine], ids)
        gt = sum(len(coco.imgToAnns.get(i, [])) for i in ids)
        per_sequence[name] = {"AP50": m["AP50"], "AR100": m["AR100"], "gt_boxes": gt}
    return {"overall": overall, "sequences": per_sequence}


def load_test_coco(path: Path, num_classes: int = 7):
    """The COCO test set (pycocotools), its categories checked (:func:`nuscmot.detector.data.load_coco`)."""
    from nuscmot.detector.data import load_coco

    return load_coco(path, num_classes)
