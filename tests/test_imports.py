"""The pinned stack imports together (a pin that needs numpy 2 fails here, not mid-DAG)."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "numpy", "pandas", "pyarrow", "pyarrow.parquet", "yaml", "jsonschema", "snakemake",
    "nuscenes.nuscenes", "shapely", "cv2", "pycocotools.coco", "pycocotools.cocoeval",
    "motmetrics", "tensorboard", "torch.utils.tensorboard", "matplotlib.pyplot", "scipy.optimize",
    "scipy.stats", "loguru", "tabulate", "thop", "tqdm", "psutil", "torch", "trackeval",
]


@pytest.mark.parametrize("name", MODULES)
def test_pinned_module_imports(name):
    importlib.import_module(name)


def test_yolox_imports_with_our_nms():
    import nuscmot.detector.nms  # noqa: F401  (registers the torch-only NMS if torchvision is absent)
    from yolox.models import YOLOX  # noqa: F401
    from yolox.utils import postprocess  # noqa: F401


def test_numpy_is_1x_for_the_devkit_and_motmetrics():
    import numpy as np

    assert np.__version__.startswith("1.")
