"""Helpers for detector tests: a small rendered COCO set (independent of the synth/convert
stages, for unit tests of the training loop) and small detector config slices."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np

CLASSES = ["car", "truck", "bus", "trailer", "pedestrian", "motorcycle", "bicycle"]
COLORS = [(40, 40, 200), (200, 40, 40), (40, 200, 40), (200, 200, 40), (200, 40, 200), (40, 200, 200), (250, 250, 250)]


def render_coco(root: Path, split: str, count: int, first_id: int, rng: np.random.Generator,
                size=(96, 160), objects=(1, 3), box=(10, 40), classes: int = len(CLASSES)) -> Path:
    """``count`` JPEGs with filled rectangles (colour = class) and their COCO JSON."""
    h, w = size
    images, anns = [], []
    (root / "samples" / split).mkdir(parents=True, exist_ok=True)
    for k in range(count):
        img = np.full((h, w, 3), 100, np.uint8)
        img_id = first_id + k
        for _ in range(int(rng.integers(objects[0], objects[1] + 1))):
            c = int(rng.integers(0, classes))
            bw, bh = int(rng.integers(*box)), int(rng.integers(*box))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            cv2.rectangle(img, (x, y), (x + bw - 1, y + bh - 1), COLORS[c], -1)
            anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": c + 1,
                         "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0})
        name = f"samples/{split}/{k:04d}.jpg"
        cv2.imwrite(str(root / name), img)
        images.append({"id": img_id, "file_name": name, "width": w, "height": h})
    path = root / f"{split}.json"
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(CLASSES)]
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return path


def small_detector_cfg(**changes) -> dict:
    """A nano detector slice that trains a couple of iterations per epoch in seconds."""
    cfg = {
        "model": "yolox_nano", "num_classes": 7, "pretrained": "", "allow_scratch": True,
        "input_size": [64, 96], "multiscale_range": 1, "batch_size": 4, "workers": 0,
        "freeze_epochs": 1, "unfreeze_epochs": 2, "warmup_epochs": 1, "basic_lr_per_img": 0.00125,
        "min_lr_ratio": 0.05, "weight_decay": 0.0005, "momentum": 0.9, "no_aug_epochs": 1, "ema": True,
        "amp": True, "eval_interval": 1, "keep_epoch_ckpts": 2, "mosaic_prob": 0.7, "mixup_prob": 0.4,
        "hsv_prob": 0.5, "flip_prob": 0.5, "degrees": 5.0, "translate": 0.1, "shear": 2.0,
        "mosaic_scale": [0.5, 1.5], "mixup_scale": [0.5, 1.5], "max_train_images": 0,
        "max_iters_per_epoch": 2, "max_val_images": 4, "seed": 0,
    }
    cfg.update(changes)
    return cfg


def state_folder(state_dir: Path) -> Path:
    """The one per-fingerprint folder of a state dir a test trained one config into."""
    folders = [p for p in Path(state_dir).iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def train_paths(root: Path, data: SimpleNamespace):
    from nuscmot.detector.trainer import TrainPaths

    return TrainPaths(train_json=data.train, val_json=data.val, image_root=data.root, state_dir=root / "state",
                      runs_dir=root / "runs", best=root / "weights" / "best.pth",
                      latest=root / "weights" / "latest.pth", train_log=root / "train_log.txt",
                      config_out=root / "weights" / "config.json")
