"""The sweep's summary table and the best cell per tracker.

The objective (the ``sweep.objective`` config slice): among a tracker's cells whose guard
metric (default MOTA) is within ``guard_points`` percentage points of that tracker's best,
take the one with the lowest (``goal: min``) or highest (``goal: max``) ``metric`` (default
IDSW). Ties go to the higher guard metric, then to the earlier cell in grid order, so the
choice is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from nuscmot.common.errors import InputError
from nuscmot.common.fields import AT_LEAST_0, check_fields, limited

# Columns of the summary, after ``tracker``, ``cell`` and the grid parameters.
METRICS = ("IDSW", "IDSW_trackeval", "MOTA", "IDF1", "HOTA", "FP", "FN")
# Metrics that are fractions where "higher is better" (a guard is relative to the best).
GUARD_METRICS = ("MOTA", "IDF1", "HOTA", "MOTP", "IDP", "IDR", "precision", "recall")
GOALS = ("min", "max")
HEATMAPS = ("min", "best")  # min over the other grid parameters | at the best cell's values


@dataclass(frozen=True)
class Objective:
    """The ``sweep.objective`` config slice."""

    metric: str = limited("IDSW", enum=METRICS)
    goal: str = limited("min", enum=GOALS)
    guard_metric: str | None = limited("MOTA", enum=(*GUARD_METRICS, None))  # None: no guard
    guard_points: float = limited(0.5, **AT_LEAST_0)
    # keep the config's cell unless the best beats it beyond the noise (paired test at alpha)
    require_significance: bool = True
    alpha: float = limited(0.05, exclusiveMinimum=0, exclusiveMaximum=1)

    def __post_init__(self) -> None:
        check_fields(self, "sweep.objective")

    def describe(self) -> str:
        text = f"{'lowest' if self.goal == 'min' else 'highest'} {self.metric}"
        if self.guard_metric:
            text += f" among cells with {self.guard_metric} within {self.guard_points:g} points of the tracker's best"
        return text


def summary_row(tracker: str, cell: str, values: Mapping[str, Any], overall: Mapping[str, Any], source: str) -> dict[str, Any]:
    """One summary row from a cell's typed values and its evaluation's OVERALL metrics."""
    missing = [m for m in ("IDSW", "MOTA", "IDF1", "FP", "FN") if m not in overall]
    if missing:
        raise InputError(source, f"overall metrics lack {', '.join(missing)}")
    row: dict[str, Any] = {"tracker": tracker, "cell": cell, **values}
    for m in METRICS:
        row[m] = overall.get(m)
    return row


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _at_least(value: float | None, floor: float) -> bool:
    """``value >= floor``; a missing value never is (a value of 0.0 is not missing)."""
    return value is not None and value >= floor


def best_cells(rows: Sequence[Mapping[str, Any]], objective: Objective) -> dict[str, dict[str, Any]]:
    """The best row per tracker (in first-seen tracker order), with why it was chosen.

    Rows lacking the objective metric (``None``) never win; a tracker without any usable row
    is an :class:`InputError`.
    """
    trackers = list(dict.fromkeys(r["tracker"] for r in rows))
    out: dict[str, dict[str, Any]] = {}
    for tracker in trackers:
        mine = [(i, r) for i, r in enumerate(rows) if r["tracker"] == tracker]
        usable = [(i, r) for i, r in mine if _number(r.get(objective.metric)) is not None]
        guard_best = None
        if objective.guard_metric:
            guards = [_number(r.get(objective.guard_metric)) for _, r in usable]
            guards = [g for g in guards if g is not None]
            if guards:
                guard_best = max(guards)
                floor = guard_best - objective.guard_points / 100.0 - 1e-12
                usable = [(i, r) for i, r in usable if _at_least(_number(r.get(objective.guard_metric)), floor)]
        if not usable:
            raise InputError("sweep", f"no cell of tracker {tracker!r} has a value for {objective.metric}")
        sign = 1.0 if objective.goal == "min" else -1.0

        def key(item):
            i, r = item
            guard = _number(r.get(objective.guard_metric)) if objective.guard_metric else None
            return (sign * _number(r[objective.metric]), -(guard if guard is not None else -math.inf), i)

        _, best = min(usable, key=key)
        out[tracker] = {
            "cell": best["cell"],
            "row": dict(best),
            "candidates": len(usable),
            "cells": len(mine),
            "guard_best": guard_best,
        }
    return out


@dataclass(frozen=True)
class SweepConfig:
    """The ``sweep`` config slice."""

    # values are checked by nuscmot.sweep.grid.typed_grid, with the key's type
    grid: dict[str, Any] = field(default_factory=dict)  # association keys: cells of every model
    motion: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> its own keys
    objective: Objective = field(default_factory=Objective)
    heatmap: str = limited("min", enum=HEATMAPS)

    def __post_init__(self) -> None:
        check_fields(self, "sweep")

    def tracker_grid(self, tracker: str) -> dict[str, list[Any]]:
        """The grid of one motion model: the association keys and its own motion keys
        (named ``<tracker>__<key>``); another model's keys never multiply its cells."""
        from nuscmot.sweep.grid import MOTION_SEP

        own = {f"{tracker}{MOTION_SEP}{k}": v for k, v in (self.motion.get(tracker) or {}).items()}
        return {**self.grid, **own}
