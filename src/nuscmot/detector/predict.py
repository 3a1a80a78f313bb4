"""Batched detection on image files: letterbox (ValTransform), YOLOX forward, ``postprocess``
(conf + class-wise NMS), boxes mapped back to original image pixels."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn as nn
from tqdm import tqdm

import nuscmot.detector  # noqa: F401  (makes yolox importable)
from nuscmot.detector.data import ImageFilesDataset, checked_batches, image_loader
from nuscmot.detector.letterbox import boxes_to_image
from yolox.utils import postprocess

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Detections:
    """Detections of one image: ``boxes`` (N, 4) xyxy pixels, ``scores`` (N,), ``classes``
    (N,) 0-based class index; ``index`` is the image's position in the input list."""

    index: int
    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    image_hw: tuple[int, int]


def prepare_model(model: nn.Module, device: torch.device, half: bool = False) -> nn.Module:
    """Eval mode on ``device``; fp16 and channels_last only on CUDA."""
    model = model.to(device).eval()
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
        if half:
            model = model.half()
    return model


@torch.no_grad()
def forward_postprocess(model: nn.Module, imgs: torch.Tensor, num_classes: int, conf_threshold: float,
                        nms_threshold: float) -> list[torch.Tensor | None]:
    """YOLOX forward + ``postprocess`` on a letterboxed batch already on the model's device:
    per image ``(x1, y1, x2, y2, obj, cls_conf, cls)`` rows (canvas pixels) or None."""
    if imgs.is_cuda:
        imgs = imgs.contiguous(memory_format=torch.channels_last)
    outputs = model(imgs).float()
    return postprocess(outputs, num_classes, conf_threshold, nms_threshold, class_agnostic=False)


@torch.no_grad()
def detect_files(
    model: nn.Module,
    files: list[Path],
    *,
    input_size: tuple[int, int],
    num_classes: int,
    conf_threshold: float,
    nms_threshold: float,
    batch_size: int,
    workers: int,
    device: torch.device,
    half: bool = False,
    progress: str | None = None,
) -> Iterator[Detections]:
    """Detections for ``files`` in order. ``model`` must already be on ``device`` in eval mode
    (see :func:`prepare_model`); ``half`` feeds fp16 inputs (CUDA)."""
    dataset = ImageFilesDataset(files, input_size)
    loader = image_loader(dataset, batch_size, workers, device)
    dtype = torch.float16 if half and device.type == "cuda" else torch.float32
    bar = tqdm(total=len(files), desc=progress, unit="img", disable=progress is None, leave=False)
    for imgs, ratios, hs, ws, idxs in checked_batches(loader):
        imgs = imgs.to(device, dtype=dtype, non_blocking=True)
        results = forward_postprocess(model, imgs, num_classes, conf_threshold, nms_threshold)
        for det, ratio, h, w, idx in zip(results, ratios.tolist(), hs.tolist(), ws.tolist(), idxs.tolist()):
            if det is None:
                empty = np.zeros((0,), dtype=np.float64)
                yield Detections(idx, np.zeros((0, 4)), empty, empty.astype(np.int64), (h, w))
                continue
            det = det.cpu().double().numpy()
            yield Detections(
                idx,
                boxes_to_image(det[:, :4], ratio, (h, w)),
                det[:, 4] * det[:, 5],
                det[:, 6].astype(np.int64),
                (h, w),
            )
        bar.update(len(idxs))
    bar.close()
