"""Tracking tests run torch single-threaded, as the tracking entry points do (tiny batched
ops: extra threads only contend on the shared cores)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread_torch():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
