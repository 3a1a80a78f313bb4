"""What ``workflow/rules/sweep.smk`` expands: grid cells, ablation levels, per-job params.

Built once from the whole config when the Snakefile is parsed. A job's params are canonical
JSON of exactly the slices it depends on, and a cell's or level's params depend only on its
own values (plus the base slices), so adding a value to a grid or a drop rate to the ablation
adds jobs without making the existing ones stale.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.sweep import ablation, grid
from nuscmot.sweep.summary import SweepConfig
from nuscmot.tracking.models import names

NO_MATCH = "(?!)"  # wildcard regex that matches nothing (no cells / no levels configured)


def canonical_json(value: Any) -> str:
    """The JSON form ``slice_json`` in ``workflow/rules/common.smk`` produces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def without_ego_axes(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The config with every ego-motion axis off, for data without camera poses: the sweep
    grid's ``ego_compensation`` axis and ``gap_ablation.ego_compensation`` reduced to false,
    ``compare.ego_ablation`` off; and one note per change (what was skipped and why). An
    explicit ``tracking.association.ego_compensation: true`` is left alone: tracking then
    stops naming the missing pose file."""
    config = json.loads(json.dumps(config))  # a deep copy of plain config values
    why = "the data has no camera poses (cam_pose.json)"
    notes = []
    grid = ((config.get("sweep") or {}).get("grid") or {})
    if ablation.EGO_KEY in grid:
        del grid[ablation.EGO_KEY]
        notes.append(f"sweep.grid.ego_compensation axis skipped: {why}")
    gap = config.get("gap_ablation") or {}
    if True in (gap.get(ablation.EGO_KEY) or ()):
        gap[ablation.EGO_KEY] = [False]
        notes.append(f"gap_ablation.ego_compensation reduced to [false]: {why}")
    compare = config.setdefault("compare", {})
    if compare.get("ego_ablation", True):
        compare["ego_ablation"] = False
        notes.append(f"compare.ego_ablation skipped (no ego-compensation on/off table): {why}")
    return config, notes


class SweepPlan:
    """Cells of ``sweep.grid`` and levels of ``gap_ablation`` for one config.

    A config without a ``sweep`` section has no cells; one without ``gap_ablation`` gets the
    default levels. Bad values raise :class:`~nuscmot.common.errors.InputError`.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        section = config.get("sweep") or {}
        self.sweep = from_dict(SweepConfig, section, where="sweep") if section.get("grid") else None
        self.trackers = list((config.get("tracking") or {}).get("trackers") or [])
        self.cells: dict[str, list[grid.Cell]] = {}
        if self.sweep is not None:
            assoc = grid.association_types()
            bad = sorted(k for k in self.sweep.grid if k not in assoc)
            if bad:
                raise InputError("sweep.grid", f"{bad[0]} is not a tracking.association key (a motion model's own "
                                 "keys go under sweep.motion.<model>)", key=bad[0])
            unknown = sorted(set(self.sweep.motion) - set(names()))
            if unknown:
                raise InputError("sweep.motion", f"unknown motion model {unknown[0]!r}", key=unknown[0])
            for tracker in self.trackers:
                where = f"sweep.motion.{tracker}"
                self.cells[tracker] = grid.cells(self.sweep.tracker_grid(tracker), grid.parameter_types(), where=where)
        self.gap = from_dict(ablation.GapAblationConfig, config.get("gap_ablation"), where="gap_ablation")
        self.levels = {lv.name: lv for lv in ablation.levels(self.gap)}
        self.level_regex = ablation.level_regex(self.gap) or NO_MATCH
        self.ego = ablation.ego_names(self.gap)
        self.ego_regex = "|".join(re.escape(n) for n in self.ego)

    def block_params(self, tracker: str) -> str:
        """``sweep_block``'s params: the base association and motion slices, the score transform,
        the evaluation slice and every cell of this motion model (name and typed values)."""
        tracking = self.config["tracking"]
        params = {
            "cfg": dict(tracking.get("association", {})),
            "motion": dict(tracking.get("motion", {}).get(tracker, {})),
            "evaluation": dict(self.config.get("evaluation", {})),
            "cells": [{"name": c.name, "values": c.values} for c in self.cells.get(tracker, [])],
        }
        if "score_transform" in tracking:
            params["score_transform"] = tracking["score_transform"]
        return canonical_json(params)

    def gap_track_params(self, tracker: str, ego: str) -> str:
        """``run_tracker``'s params with the ablation's ``ego_compensation`` setting ``ego``."""
        tracking = self.config["tracking"]
        association = {**tracking.get("association", {}), ablation.EGO_KEY: self.ego[ego]}
        motion = tracking.get("motion", {}).get(tracker, {})
        return canonical_json({"cfg": association, "motion": motion})

    def level_params(self, level: str) -> str:
        """``gt_detections``' params for one degradation level: the first draw's seed (the
        reference run), never the list of draws."""
        base = dict(self.config.get("gt_detections", {}))
        seeds = base.pop("seeds", None)
        if seeds:
            base["seed"] = int(seeds[0])
        return canonical_json(self.levels[level].detections_params(base, self.gap))
