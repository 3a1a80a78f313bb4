"""COCO-JSON datasets for YOLOX: training (``pull_item``/``load_anno``), and image files.

Our COCO files name images relative to the nuScenes dataroot (``image_root/file_name``),
which ``yolox.data.COCODataset``'s fixed folder layout cannot express, so
:class:`CocoJsonDataset` reads the JSON with pycocotools and offers the same
``pull_item``/``load_anno``/``input_dim`` interface that ``MosaicDetection`` consumes.

YOLOX's augmentations draw from Python's ``random`` and NumPy's global RNG. To make them
reproducible whatever worker serves a sample (and across a resume), the batch sampler
tags every sample with its own seed and :class:`SeededSamples` reseeds both RNGs from it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import random
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

import nuscmot.detector  # noqa: F401  (makes yolox importable)
from nuscmot.common.errors import InputError
from nuscmot.common.images import decode_image
from nuscmot.common.io import read_json
from nuscmot.detector.letterbox import letterbox
from yolox.data import YoloBatchSampler
from yolox.data.datasets import Dataset as YoloxDataset

log = logging.getLogger(__name__)


def load_coco(path: str | Path, num_classes: int):
    """pycocotools ``COCO`` for our JSON; checks categories are ids 1..num_classes."""
    from pycocotools.coco import COCO

    path = Path(path)
    data = read_json(path, "COCO JSON")
    if not isinstance(data, dict) or not all(k in data for k in ("images", "annotations", "categories")):
        raise InputError(path, "not a COCO detection file (needs images, annotations, categories)")
    cat_ids = sorted(int(c["id"]) for c in data["categories"])
    if cat_ids != list(range(1, num_classes + 1)):
        raise InputError(path, f"category ids {cat_ids} do not match the model's {num_classes} classes (expected 1..{num_classes})")
    for img in data["images"]:
        if not all(k in img for k in ("id", "file_name", "width", "height")):
            raise InputError(path, f"image entry {img.get('id')!r} lacks id/file_name/width/height")
    check_annotations(path, data, num_classes)
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def check_annotations(path: Path, data: dict, num_classes: int) -> None:
    """Every annotation has a finite box ``[x, y, w, h]`` of non-negative size, a known
    category and an image of the file; the first offender is named by its id."""
    image_ids = {img["id"] for img in data["images"]}
    for ann in data["annotations"]:
        aid = ann.get("id") if isinstance(ann, dict) else None
        try:
            x, y, w, h = (float(v) for v in ann["bbox"])
        except (KeyError, TypeError, ValueError):
            raise InputError(path, f"annotation {aid!r} has no bbox [x, y, w, h] of numbers", key="annotations") from None
        if not np.isfinite([x, y, w, h]).all():
            raise InputError(path, f"annotation {aid!r} has a non-finite bbox {ann['bbox']}", key="annotations")
        if w < 0 or h < 0:
            raise InputError(path, f"annotation {aid!r} has a box of negative size (w {w:g}, h {h:g})", key="annotations")
        if ann.get("category_id") not in range(1, num_classes + 1):
            raise InputError(path, f"annotation {aid!r} has category_id {ann.get('category_id')!r}, "
                             f"not one of 1..{num_classes}", key="annotations")
        if ann.get("image_id") not in image_ids:
            raise InputError(path, f"annotation {aid!r} refers to image_id {ann.get('image_id')!r}, "
                             "which is not in images", key="annotations")


def check_images_exist(paths: list[Path], source: str | Path) -> None:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise InputError(source, f"{len(missing)} image(s) not found, first: {missing[0]}")


def read_image(path: str | Path) -> np.ndarray:
    """BGR uint8 image; an unreadable, truncated (:mod:`nuscmot.common.images`) or undecodable
    file is an InputError naming it."""
    img, problem = decode_image(path)
    if img is None:
        raise InputError(path, problem)
    return img


def subset_ids(ids: list[int], max_images: int, seed: int) -> list[int]:
    """All ids, or a seeded random subset of ``max_images`` (kept in id order)."""
    ids = sorted(ids)
    if max_images <= 0 or max_images >= len(ids):
        return ids
    pick = np.random.default_rng(seed).choice(len(ids), size=max_images, replace=False)
    return [ids[i] for i in sorted(pick)]


class CocoJsonDataset(YoloxDataset):
    """Training images + labels ``(x1, y1, x2, y2, class_index)`` scaled to ``img_size``."""

    def __init__(
        self,
        json_path: str | Path,
        image_root: str | Path,
        img_size: tuple[int, int],
        num_classes: int,
        max_images: int = 0,
        seed: int = 0,
    ):
        super().__init__(tuple(img_size))
        self.json_path = Path(json_path)
        self.image_root = Path(image_root)
        self.img_size = tuple(img_size)
        coco = load_coco(self.json_path, num_classes)
        self.class_ids = sorted(coco.getCatIds())
        self.total_images = len(coco.getImgIds())  # before max_images
        self.ids = subset_ids(coco.getImgIds(), max_images, seed)
        self.files = [self.image_root / coco.imgs[i]["file_name"] for i in self.ids]
        check_images_exist(self.files, self.json_path)
        self.annotations = [self._load_anno(coco, i) for i in self.ids]
        self.num_boxes = int(sum(len(a[0]) for a in self.annotations))

    def _load_anno(self, coco, img_id: int) -> tuple[np.ndarray, tuple[int, int]]:
        info = coco.imgs[img_id]
        width, height = float(info["width"]), float(info["height"])
        rows = []
        for ann in coco.imgToAnns.get(img_id, []):
            if ann.get("iscrowd", 0):
                continue
            x, y, w, h = (float(v) for v in ann["bbox"])
            x1, y1 = max(0.0, x), max(0.0, y)  # clipped to the image, far corner kept in place
            x2, y2 = min(width, x + w), min(height, y + h)  # w, h >= 0: checked by load_coco
            if w * h > 0 and x2 > x1 and y2 > y1:
                rows.append((x1, y1, x2, y2, self.class_ids.index(int(ann["category_id"]))))
        res = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
        r = min(self.img_size[0] / height, self.img_size[1] / width)
        res[:, :4] *= r
        return res, (int(height), int(width))

    def __len__(self) -> int:
        return len(self.ids)

    def load_anno(self, index: int) -> np.ndarray:
        return self.annotations[index][0]

    def load_resized_img(self, index: int) -> np.ndarray:
        img = read_image(self.files[index])
        r = min(self.img_size[0] / img.shape[0], self.img_size[1] / img.shape[1])
        size = (int(img.shape[1] * r), int(img.shape[0] * r))
        return cv2.resize(img, size, interpolation=cv2.INTER_LINEAR).astype(np.uint8)

    def pull_item(self, index: int):
        res, img_info = self.annotations[index]
        return self.load_resized_img(index), res.copy(), img_info, np.array([self.ids[index]])

    @YoloxDataset.mosaic_getitem
    def __getitem__(self, index):
        return self.pull_item(index)


def sample_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


class SeededSamples(torch.utils.data.Dataset):
    """Wraps ``MosaicDetection``: keys ``(mosaic, index, seed)`` -> ``(image, targets)``."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        mosaic, index, seed = key
        random.seed(seed)
        np.random.seed(seed)
        try:
            img, target, _, _ = self.dataset[(mosaic, index)]
        except InputError as exc:  # raised again, as itself, in the main process (see checked_batches)
            return SampleError(exc.path, exc.problem)
        return img, target


class SampleError:
    """A sample's InputError, carried out of a DataLoader worker as data.

    torch re-raises a worker's exception in the main process as ``type(exc)(traceback_text)``
    (or a RuntimeError when that constructor fails): a multi-line message, whatever the
    original. A marker travels through :func:`collate_samples` instead.
    """

    def __init__(self, path: str, problem: str):
        self.path, self.problem = path, problem

    def error(self) -> InputError:
        return InputError(self.path, self.problem)


def collate_samples(batch: list):
    """``default_collate``, or the first :class:`SampleError` of the batch."""
    failed = next((item for item in batch if isinstance(item, SampleError)), None)
    return failed if failed is not None else torch.utils.data.default_collate(batch)


def checked_batches(loader):
    """Iterate ``loader``; a batch that carries a :class:`SampleError` raises its InputError."""
    for batch in loader:
        if isinstance(batch, SampleError):
            raise batch.error()
        yield batch


class SeededBatchSampler(YoloBatchSampler):
    """YOLOX's batch sampler (mosaic on/off), each sample tagged with a per-sample seed.

    The seed depends on (run seed, epoch, rank, position), so an epoch's augmentations are
    the same whichever worker decodes them and whether or not the run was resumed.
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool, *, mosaic: bool, seed: int, rank: int = 0):
        super().__init__(sampler, batch_size, drop_last, mosaic=mosaic)
        self.seed, self.rank, self.epoch = seed, rank, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self):
        for b, batch in enumerate(super().__iter__()):
            yield [
                (mosaic, idx, sample_seed(self.seed, self.epoch, self.rank, b * self.batch_size + j))
                for j, (mosaic, idx) in enumerate(batch)
            ]


def worker_init(_worker_id: int) -> None:
    """DataLoader workers decode/augment single-threaded (the main process trains)."""
    cv2.setNumThreads(1)


class ImageFilesDataset(torch.utils.data.Dataset):
    """Letterboxed images for evaluation/inference: ``(canvas, ratio, h, w, index)``.

    An unreadable image yields a :class:`SampleError` (exceptions raised inside DataLoader
    workers lose their type); :func:`image_loader` batches carry it to :func:`checked_batches`.
    """

    def __init__(self, files: list[Path], input_size: tuple[int, int]):
        self.files = list(files)
        self.input_size = tuple(input_size)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        try:
            img = read_image(self.files[index])
        except InputError as exc:
            return SampleError(exc.path, exc.problem)
        canvas, ratio = letterbox(img, self.input_size)
        return torch.from_numpy(canvas), float(ratio), int(img.shape[0]), int(img.shape[1]), index


def image_loader(dataset: torch.utils.data.Dataset, batch_size: int, workers: int, device: Any,
                 sampler: Any = None) -> torch.utils.data.DataLoader:
    """Ordered DataLoader for :class:`ImageFilesDataset` (workers decode, pinned on CUDA);
    iterate it through :func:`checked_batches`."""
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        sampler=sampler,
        num_workers=workers,
        pin_memory=torch.device(device).type == "cuda",
        worker_init_fn=worker_init if workers else None,
        collate_fn=collate_samples,
    )


def env_workers(workers: int) -> int:
    """Never more workers than CPUs."""
    return max(0, min(workers, os.cpu_count() or 1))
