"""The one place that adapts motmetrics 1.4.0 to numpy 1.26 / 2 and pandas 3.

What was checked (by running motmetrics 1.4.0 with numpy 1.26.4 and pandas 3.0; the tests in
``tests/evaluation/test_motmetrics_compat.py`` pin each point):

1. ``mm.distances.iou_matrix`` calls ``np.asfarray`` (removed in numpy 2). :func:`iou_distances`
   uses it while numpy still has ``asfarray`` and otherwise calls the same vectorised
   ``mm.distances.boxiou`` that ``iou_matrix`` wraps, so the numbers are identical either way.
   It also returns an ``(n, m)`` matrix for empty inputs (``iou_matrix`` returns ``(0, 0)``,
   which ``MOTAccumulator.update`` cannot reshape when only one side is empty).
2. ``MOTAccumulator.merge_event_dataframes`` uses ``DataFrame.append`` (removed in pandas 2)
   and fails. We never call it: :func:`summarize` uses ``MetricsHost.compute_many(...,
   generate_overall=True)``, which in 1.4.0 builds the OVERALL row from the per-sequence
   partial results (``compute_overall``: sums, and weighted means for MOTP), not by merging
   event frames.
3. The metric functions (``value_counts``, ``groupby(...).nunique()``, MultiIndex ``.loc``
   slicing in ``num_fragmentations``) run under pandas 3 copy-on-write without errors or
   warnings (tested with warnings turned into errors).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def iou_distances(objs: np.ndarray, hyps: np.ndarray) -> np.ndarray:
    """``1 - IoU`` between ``(n, 4)`` object and ``(m, 4)`` hypothesis boxes (x, y, w, h): ``(n, m)``.

    No threshold is applied (motmetrics' ``max_iou=1``); callers gate the matrix themselves.
    """
    import motmetrics as mm

    objs = np.asarray(objs, dtype=np.float64).reshape(-1, 4)
    hyps = np.asarray(hyps, dtype=np.float64).reshape(-1, 4)
    if len(objs) == 0 or len(hyps) == 0:
        return np.empty((len(objs), len(hyps)), dtype=np.float64)
    if hasattr(np, "asfarray"):
        return mm.distances.iou_matrix(objs, hyps, max_iou=1.0)
    return 1.0 - mm.distances.boxiou(objs[:, None], hyps[None, :])


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix ``(n, m)`` between two sets of (x, y, w, h) boxes (motmetrics' ``boxiou``)."""
    return 1.0 - iou_distances(a, b)


def summarize(accumulators: Sequence, names: Sequence[str], metrics: Sequence[str]):
    """``compute_many`` with an OVERALL row, on the path that works with pandas 3 (see point 2).

    Returns a DataFrame indexed by ``names`` + ``"OVERALL"``, one column per metric.
    """
    import motmetrics as mm

    host = mm.metrics.create()
    return host.compute_many(
        list(accumulators), metrics=list(metrics), names=list(names), generate_overall=True
    )
