"""Our torch-only NMS against a brute-force reference and (where importable) torchvision."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nuscmot.detector import nms as nms_mod


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def brute_force_nms(boxes: np.ndarray, scores: np.ndarray, thr: float, classes=None) -> list[int]:
    """Textbook greedy NMS: repeatedly take the best remaining box, drop what overlaps it."""
    remaining = sorted(range(len(boxes)), key=lambda i: -scores[i])
    keep = []
    while remaining:
        best = remaining.pop(0)
        keep.append(best)
        remaining = [j for j in remaining
                     if (classes is not None and classes[j] != classes[best]) or iou(boxes[best], boxes[j]) <= thr]
    return keep


def random_boxes(seed: int, n: int, spread: float = 100.0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-10, spread, (n, 2))
    wh = rng.uniform(1, 40, (n, 2))
    boxes = np.concatenate([xy, xy + wh], 1)
    scores = rng.permutation(n).astype(np.float64) / n + 0.01  # distinct scores (tie order is unspecified)
    classes = rng.integers(0, 3, n)
    return boxes, scores, classes


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 60), thr=st.sampled_from([0.0, 0.3, 0.5, 0.65, 0.9]))
def test_nms_matches_brute_force(seed, n, thr):
    boxes, scores, _ = random_boxes(seed, n)
    kept = nms_mod.nms(torch.tensor(boxes, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32), thr)
    assert kept.dtype == torch.int64
    assert kept.tolist() == brute_force_nms(boxes.astype(np.float32).astype(np.float64), scores, thr)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 60), thr=st.sampled_from([0.3, 0.5, 0.65]))
def test_batched_nms_matches_brute_force(seed, n, thr):
    boxes, scores, classes = random_boxes(seed, n, spread=60.0)
    kept = nms_mod.batched_nms(torch.tensor(boxes), torch.tensor(scores), torch.tensor(classes), thr)
    assert kept.tolist() == brute_force_nms(boxes, scores, thr, classes)


def test_identical_boxes_keep_one_and_touching_boxes_keep_both():
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, 10, 10], [10, 0, 20, 10]], dtype=torch.float32)
    kept = nms_mod.nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
    assert kept.tolist() == [0, 2]


def test_matches_torchvision_when_importable():
    if not nms_mod.real_torchvision_available():
        pytest.skip("torchvision is not importable here")
    import torchvision

    for seed in range(20):
        boxes, scores, classes = random_boxes(seed, 200)
        b, s, c = (torch.tensor(boxes, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32),
                   torch.tensor(classes))
        assert nms_mod.nms(b, s, 0.5).tolist() == torchvision.ops.nms(b, s, 0.5).tolist()
        assert nms_mod.batched_nms(b, s, c, 0.5).tolist() == torchvision.ops.batched_nms(b, s, c, 0.5).tolist()


def test_yolox_postprocess_uses_our_nms_only_without_torchvision():
    import yolox.utils.boxes as boxes

    if nms_mod.real_torchvision_available():
        assert not getattr(boxes.torchvision, nms_mod.SHIM_FLAG, False)
        return
    shim = boxes.torchvision
    assert getattr(shim, nms_mod.SHIM_FLAG, False)
    assert shim.ops.nms is nms_mod.nms and shim.ops.batched_nms is nms_mod.batched_nms
    assert set(vars(shim.ops)) - {"__name__", "__doc__", "__package__", "__loader__", "__spec__"} == {"nms", "batched_nms"}
    # the stand-in is not left where other libraries would find it
    assert "torchvision" not in sys.modules
    with pytest.raises(ImportError):
        import torchvision  # noqa: F401


def test_postprocess_end_to_end_with_yolox():
    from yolox.utils import postprocess

    # one image, three predictions (cx, cy, w, h, obj, 7 class scores): two overlap in class 0
    pred = torch.zeros(1, 3, 12)
    pred[0, :, :4] = torch.tensor([[50, 50, 20, 20], [51, 51, 20, 20], [150, 50, 20, 20]], dtype=torch.float32)
    pred[0, :, 4] = torch.tensor([0.9, 0.8, 0.7])
    pred[0, :, 5] = 1.0
    out = postprocess(pred, 7, conf_thre=0.1, nms_thre=0.45)[0]
    assert out.shape[0] == 2
    assert torch.allclose(out[:, 4], torch.tensor([0.9, 0.7]))
