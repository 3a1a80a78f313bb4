"""Detector fixtures (see :mod:`.helpers`)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from .helpers import render_coco


@pytest.fixture(scope="session")
def toy_coco(tmp_path_factory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("toy_coco")
    rng = np.random.default_rng(0)
    return SimpleNamespace(root=root, train=render_coco(root, "train", 16, 1, rng),
                           val=render_coco(root, "val", 6, 1000, rng))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: tests run beside each other (pytest -n 2 on 2 cores), where two
    OpenMP threads per process stall on every op."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
