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
from nuscmot.sweep import ablation, grid

NO_MATCH = "(?!)"  # wildcard regex that matches nothing (no cells / no levels configured)


def canonical_json(value: Any) -> str:
    """The JSON form ``slice_json`` in ``workflow/rules/common.smk`` produces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class SweepPlan:
    """Cells of ``sweep.grid`` and levels of ``gap_ablation`` for one config.

    A config without a ``sweep`` section has no cells; one without ``gap_ablation`` gets the
    default levels. Bad values raise :class:`~nuscmot.common.errors.InputError`.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        sweep_grid = (config.get("sweep") or {}).get("grid") or {}
        cells = grid.cells(sweep_grid, grid.parameter_types()) if sweep_grid else []
        self.cells = {c.name: c.values for c in cells}
        self.cell_names: list[str] = []
        self.cell_regex = NO_MATCH
        if cells:
            space = grid.paramspace(cells, single_wildcard="cell")
            self.cell_names = list(space.instance_patterns)
            if self.cell_names != list(self.cells):  # the Paramspace names are ours
                raise RuntimeError(f"Paramspace names {self.cell_names} differ from the cell names {list(self.cells)}")
            self.cell_regex = grid.wildcard_regex(space.columns)
        self.gap = from_dict(ablation.GapAblationConfig, config.get("gap_ablation"), where="gap_ablation")
        self.levels = {lv.name: lv for lv in ablation.levels(self.gap)}
        self.level_regex = ablation.level_regex(self.gap) or NO_MATCH
        self.ego = ablation.ego_names(self.gap)
        self.ego_regex = "|".join(re.escape(n) for n in self.ego)

    def cell_params(self, tracker: str, cell: str) -> str:
        """``run_tracker``'s params with the cell's values substituted: association keys into
        ``cfg``, ``<tracker>__<key>`` into that tracker's motion slice (other trackers' motion
        keys are left out, so their cells repeat the same run)."""
        tracking = self.config["tracking"]
        association = dict(tracking.get("association", {}))
        motion = dict(tracking.get("motion", {}).get(tracker, {}))
        for key, value in self.cells[cell].items():
            owner, sep, name = key.partition(grid.MOTION_SEP)
            if not sep:
                association[key] = value
            elif owner == tracker:
                motion[name] = value
        params = {"cfg": association, "motion": motion}
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
        """``gt_detections``' params for one degradation level."""
        base = self.config.get("gt_detections", {})
        return canonical_json(self.levels[level].detections_params(base, self.gap))
