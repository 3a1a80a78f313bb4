"""Evaluate a block of grid cells in one process: track + evaluate every cell on the tuning split.

One Snakemake job per (detection source, motion model) runs all of that model's cells: the
sequences, ground truth and detections are read once, and each cell costs only its tracking and
its motmetrics evaluation (a job per cell would pay Python's and Snakemake's start-up per cell,
which dominates on the demo's short sequences). Results are passed through the MOT text format
(written and read back), so a cell scores exactly what ``track`` + ``evaluate_tracking`` would.

Leak-free by construction: :func:`check_tuning_split` refuses a seqmap that names any test scene
(``splits.json`` from ``convert``), before anything of a sequence is read.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.mot import SeqInfo, read_mot, read_seqinfo, write_mot
from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_many
from nuscmot.evaluation.sequences import load_gt
from nuscmot.sweep.grid import Cell

log = logging.getLogger(__name__)


def check_tuning_split(names: Sequence[str], splits_path: str | Path, seqmap: str | Path) -> None:
    """Tuning reads no test scene: every sequence must be a detector-val scene (official train side)."""
    try:
        splits = json.loads(Path(splits_path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(splits_path, f"cannot read the scene splits ({exc})") from None
    test = set(splits.get("test", []))
    leaked = sorted(set(names) & test)
    if leaked:
        raise InputError(seqmap, f"lists test scene(s) {', '.join(leaked[:5])}: tuning must never read the test split")
    allowed = set(splits.get("detector_val", []))
    foreign = sorted(set(names) - allowed)
    if foreign:
        raise InputError(seqmap, f"scene(s) {', '.join(foreign[:5])} are not detector-val scenes of {splits_path}")


@dataclass(frozen=True)
class Split:
    """What every cell reads: per sequence its info, ground truth rows and detections."""

    names: list[str]
    infos: dict[str, SeqInfo]
    gt: dict[str, np.ndarray]
    dets: dict[str, np.ndarray]


def load_split(names: Sequence[str], mot_dir: Path, dets_dir: Path) -> Split:
    from nuscmot.track import read_detections

    infos = {n: read_seqinfo(mot_dir / n / "seqinfo.ini") for n in names}
    gt = {n: load_gt(mot_dir, n).rows for n in names}
    dets = {n: read_detections(dets_dir / f"{n}.txt", infos[n]) for n in names}
    return Split(list(names), infos, gt, dets)


def split_values(values: Mapping[str, Any], association_keys: set[str]) -> tuple[dict, dict]:
    """A cell's values as (association keys, motion keys)."""
    assoc = {k: v for k, v in values.items() if k in association_keys}
    return assoc, {k: v for k, v in values.items() if k not in association_keys}


def run_cell(tracker_name: str, association: Mapping[str, Any], motion: Mapping[str, Any], model: str | None,
             split: Split, cfg: EvaluationConfig, scratch: Path) -> dict[str, Any]:
    """Track every sequence with one cell's settings and return the OVERALL metrics."""
    from nuscmot.common.config import from_dict
    from nuscmot.track import motion_factory, tracker_for
    from nuscmot.tracking.tracker import track_sequence

    make_motion = motion_factory(tracker_name, dict(motion), model)
    results = {}
    for name in split.names:
        info = split.infos[name]
        tracker = tracker_for(from_dict_association(association), info)
        rows = track_sequence(tracker, make_motion(info), split.dets[name], info.length)
        path = scratch / f"{name}.txt"
        write_mot(path, rows, "result")
        results[name] = read_mot(path, "result")
    del from_dict
    rows, _ = evaluate_many(split.names, lambda n: (split.gt[n], results[n], split.infos[n].length), cfg)
    return rows["OVERALL"]


def from_dict_association(association: Mapping[str, Any]):
    from nuscmot.common.config import from_dict
    from nuscmot.tracking.tracker import Tracker

    return from_dict(Tracker, dict(association), where="tracking.association")


def run_block(tracker_name: str, cells: Sequence[Cell], association: Mapping[str, Any], motion: Mapping[str, Any],
              association_keys: set[str], model: str | None, split: Split, cfg: EvaluationConfig) -> list[dict]:
    """One row per cell: its name, its values and the OVERALL metrics on the split."""
    from tqdm import tqdm

    out = []
    with tempfile.TemporaryDirectory(prefix="nuscmot-block-") as tmp:
        for cell in tqdm(cells, desc=f"cells {tracker_name}", unit="cell", disable=None):
            a, m = split_values(cell.values, association_keys)
            overall = run_cell(tracker_name, {**association, **a}, {**motion, **m}, model, split, cfg, Path(tmp))
            out.append({"cell": cell.name, "values": dict(cell.values), "overall": overall})
    return out
