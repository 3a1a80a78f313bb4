"""Which tuning cell a model runs at: the objective's best cell only when it beats the config's
own cell beyond the noise of the tuning sequences; otherwise the config cell.

The config cell is the cell whose values equal the config's ``tracking.association`` and
``tracking.motion.<model>`` values (recorded by ``sweep_block``), or the grid's first cell where
the config's values are not in the grid. "Beyond the noise": the paired statistics of
``compare_idsw`` (:func:`nuscmot.evaluation.stats.paired_comparison`) on the objective metric over
the tuning sequences, best cell against config cell, significant at ``sweep.objective.alpha`` in the
objective's direction.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.evaluation.runs import METRIC_WEIGHTS
from nuscmot.evaluation.stats import PairedData, paired_comparison
from nuscmot.sweep.summary import Objective, best_cells

# per-sequence columns a sweep block keeps per cell
SEQUENCE_METRICS = ("IDSW", "IDSW_trackeval", "MOTA", "IDF1", "HOTA", "FP", "FN", "num_objects", "num_predictions")


def _num_den(per_seq: Mapping[str, Mapping], names: Sequence[str], metric: str) -> tuple[np.ndarray, np.ndarray | None]:
    weights = METRIC_WEIGHTS.get(metric, ((), True))[0]
    vals = [per_seq[n].get(metric) for n in names]
    if not weights:
        return np.array([float(v or 0) for v in vals]), None
    w = np.array([float(sum(per_seq[n].get(c) or 0 for c in weights)) for n in names])
    ok = np.array([v is not None for v in vals]) & (w > 0)
    return np.where(ok, [float(v or 0) for v in vals], 0.0) * np.where(ok, w, 0.0), np.where(ok, w, 0.0)


def beats(objective: Objective, best: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """Paired statistics of the best cell against the config cell on the objective metric."""
    names = list(config["_sequences"])
    nb, db = _num_den(best["_sequences"], names, objective.metric)
    nc, dc = _num_den(config["_sequences"], names, objective.metric)
    data = PairedData(nb[None, None], nc[None], None if db is None else db[None, None], None if dc is None else dc[None],
                      lower_is_better=objective.goal == "min", seeds=(None,), draws=(None,))
    st = paired_comparison(data, alpha=objective.alpha)
    better = st["estimate"] is not None and (st["estimate"] < 0 if objective.goal == "min" else st["estimate"] > 0)
    keep = ("estimate", "ci", "level", "p", "p_sign", "significant", "n_sequences", "better", "worse", "ties")
    return {"metric": objective.metric, **{k: st[k] for k in keep}, "beats": bool(st["significant"] and better)}


def pick(objective: Objective, rows: Sequence[Mapping[str, Any]], config_cell: str | None) -> dict[str, Any]:
    """The cell one (source, model) runs at, from its summary rows (each with ``_sequences``: the
    per-sequence metrics of the tuning sequences); ``config_cell``: the config's cell (None: the
    first row's). Returns :func:`~nuscmot.sweep.summary.best_cells`' entry of the chosen row plus
    ``best_cell``, ``config_cell``, ``chosen`` ("best" | "config"), ``beats_config`` and ``reason``."""
    tracker = rows[0]["tracker"]
    found = best_cells(rows, objective)[tracker]
    by_name = {r["cell"]: r for r in rows}
    config = by_name.get(config_cell) or rows[0]
    best = by_name[found["cell"]]
    out = {**found, "best_cell": best["cell"], "config_cell": config["cell"], "config_in_grid": config_cell in by_name}
    if best["cell"] == config["cell"]:
        return {**out, "chosen": "config", "beats_config": None, "reason": "the best cell is the config cell"}
    if "_sequences" not in best or "_sequences" not in config:
        return {**out, "chosen": "best", "beats_config": None,
                "reason": "no per-sequence metrics in the sweep block (rerun sweep_block): best cell taken untested"}
    test = beats(objective, best, config)
    if test["beats"] or not objective.require_significance:
        why = "beats the config cell beyond the noise" if test["beats"] else "taken without a significant gain"
        return {**out, "chosen": "best", "beats_config": test, "reason": f"the best cell {why}"}
    return {**out, "cell": config["cell"], "row": dict(config), "chosen": "config", "beats_config": test,
            "reason": f"the best cell does not beat the config cell beyond the noise (p = {test['p']}, "
                      f"{test['level']:.0%} CI {test['ci']}): config cell kept"}
