"""The network of a ``checkpoint`` detection source (:class:`nuscmot.common.sources.DetectionSource`).

- ``sha256`` set: the file's digest is checked before it is loaded.
- A checkpoint with ``model_config`` (one of ours) is rebuilt from it; one without (an official
  YOLOX file, a bare ``{"model": state_dict}``) from the source's ``model`` and ``input_size``,
  with the head's class count read from the state dict (80 for COCO).
- ``class_map: coco`` maps YOLOX's COCO class indices (``yolox.data.datasets.COCO_CLASSES``) to
  ours and drops every other class; ``class_map: none`` needs a head of our ``num_classes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from nuscmot.common.errors import InputError
from nuscmot.common.sources import DetectionSource
from nuscmot.detector.checkpoint import build_model, load
from nuscmot.detector.config import MODEL_SIZES
from nuscmot.detector.training.fingerprint import check_digest

COCO_HEAD = 80
# YOLOX COCO index -> our 1-based class (1 car, 2 truck, 3 bus, 5 pedestrian, 6 motorcycle, 7 bicycle);
# no COCO class is a trailer (4)
COCO_TO_OURS = {0: 5, 1: 7, 2: 1, 3: 6, 5: 3, 7: 2}
HEAD_KEY = "head.cls_preds.0.weight"


def class_lookup(class_map: str, head: int, num_classes: int, path: Path) -> np.ndarray:
    """Our 1-based class of every 0-based head class (0: dropped)."""
    if class_map == "coco":
        if head != COCO_HEAD:
            raise InputError(path, f"class_map coco needs an 80-class COCO head, the checkpoint has {head} classes")
        lookup = np.zeros(COCO_HEAD, dtype=np.int64)
        for coco, ours in COCO_TO_OURS.items():
            lookup[coco] = ours
        return lookup
    if head != num_classes:
        hint = " (an official COCO checkpoint needs the source's class_map: coco)" if head == COCO_HEAD else ""
        raise InputError(path, f"checkpoint has a {head}-class head, expected {num_classes}{hint}")
    return np.arange(1, num_classes + 1, dtype=np.int64)


def head_classes(state_dict: dict[str, Any], path: Path) -> int:
    weight = state_dict.get(HEAD_KEY)
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        raise InputError(path, f"not a YOLOX checkpoint (no {HEAD_KEY} in its state_dict)")
    return int(weight.shape[0])


def source_model_config(ckpt: dict[str, Any], source: DetectionSource, head: int, path: Path) -> dict[str, Any]:
    """The ``model_config`` to build: the checkpoint's own, or the source's model and input_size."""
    own = ckpt.get("model_config")
    if isinstance(own, dict) and "model" in own and "input_size" in own:
        if source.model and source.model != own["model"]:
            raise InputError(path, f"the source's model {source.model} disagrees with the checkpoint's "
                                   f"model_config {own['model']}")
        size = list(source.input_size or own["input_size"])
        return {**own, "num_classes": head, "input_size": size}
    if not source.model:
        raise InputError(path, "checkpoint has no model_config (an official YOLOX file?): set the source's "
                               "model and input_size")
    if source.model not in MODEL_SIZES:
        raise InputError(path, f"unknown model {source.model!r}")
    return {"model": source.model, "num_classes": head, "input_size": list(source.input_size)}


def load_source_model(path: str | Path, source: DetectionSource,
                      num_classes: int) -> tuple[nn.Module, dict[str, Any], np.ndarray]:
    """(model in eval mode on CPU, its model_config, head class -> our class lookup)."""
    path = Path(path)
    check_digest(path, source.sha256, key="the detection source's sha256")
    ckpt = load(path)
    sd = ckpt.get("model")
    if not isinstance(sd, dict) or not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise InputError(path, "not a model checkpoint (no 'model' state_dict of tensors)")
    head = head_classes(sd, path)
    lookup = class_lookup(source.class_map, head, num_classes, path)
    mc = source_model_config(ckpt, source, head, path)
    model = build_model(mc)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).split())[:200]
        raise InputError(path, f"weights do not match a {mc['model']} with {head} classes ({first})") from None
    return model.eval(), mc, lookup
