"""Per-class metrics of one tracker: IDSW, MOTA and IDF1 per class and sequence.

Each class is evaluated on its own boxes only, on both sides (the class column of the GT and of
the results), with the same matching and ignore rules as the overall evaluation
(:func:`nuscmot.evaluation.metrics.evaluate_sequence`): a class's evaluation is class-aware by
construction, so a result box of another class never matches (overall, with
``class_aware: false``, it can). The per-class counts therefore need not add up to the overall
ones. Written by ``evaluate_tracker`` under ``"classes"`` in its metrics JSON.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.data.classes import CLASSES
from nuscmot.evaluation import motmetrics_compat
from nuscmot.evaluation.metrics import EvaluationConfig, clean_number, evaluate_sequence

# motmetrics metric -> column of a class row
CLASS_METRICS = {"num_switches": "IDSW", "mota": "MOTA", "idf1": "IDF1", "num_objects": "num_objects",
                 "num_predictions": "num_predictions", "num_false_positives": "FP", "num_misses": "FN"}
_INTS = {"IDSW", "num_objects", "num_predictions", "FP", "FN"}


def class_name(class_id: int, classes: Sequence[str] = CLASSES) -> str:
    """The name of a 1-based class id in ``classes`` (the dataset's: nuScenes' seven, or
    ``dataset.mot.classes``); its number where it is not one of them."""
    return classes[class_id - 1] if 1 <= class_id <= len(classes) else str(class_id)


def class_ids(loaded: Mapping[str, tuple[np.ndarray, np.ndarray, int]], cfg: EvaluationConfig,
              classes: Sequence[str] = CLASSES) -> list[int]:
    """Every class of ``classes``, and any other class id of an evaluated (not ignored) GT row."""
    found = {int(c) for gt, _, _ in loaded.values() for c in np.unique(gt[~cfg.ignore_rules.ignored(gt), 7])}
    return sorted(found | set(range(1, len(classes) + 1)))


def class_table(loaded: Mapping[str, tuple[np.ndarray, np.ndarray, int]], cfg: EvaluationConfig,
                classes: Sequence[str] = CLASSES) -> dict[str, Any]:
    """``{class: {"sequences": {seq: row}, "overall": row}}`` (rows keyed by the
    :data:`CLASS_METRICS` columns) from each sequence's ``(gt_rows, result_rows, length)``;
    ``classes``: the names of class ids 1..N."""
    names = list(loaded)
    out = {}
    for cid in class_ids(loaded, cfg, classes):
        evs = []
        for name in names:
            gt, hyp, length = loaded[name]
            evs.append(evaluate_sequence(name, gt[gt[:, 7] == cid], hyp[hyp[:, 7] == cid], length, cfg).accumulator)
        table = motmetrics_compat.summarize(evs, names, list(CLASS_METRICS))
        rows = {n: {col: clean_number(table.loc[n][mm], col in _INTS) for mm, col in CLASS_METRICS.items()}
                for n in names + ["OVERALL"]}
        out[class_name(cid, classes)] = {"sequences": {n: rows[n] for n in names}, "overall": rows["OVERALL"]}
    return out
