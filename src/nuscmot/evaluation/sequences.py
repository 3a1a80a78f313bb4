"""Load and validate one sequence's GT, results and detections; group rows by frame.

All MOT text goes through :mod:`nuscmot.common.mot` (which names file and line on a bad
line). On top of that, this module checks what only makes sense per sequence: frames within
``seqLength`` and no id twice in one frame (ignored GT rows exempt: they may share an id,
KITTI's DontCare rows all carry -1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.mot import check_rows, line_of_row, read_dets, read_mot, read_seqinfo
from nuscmot.evaluation.ignore import IgnoreRules


@dataclass(frozen=True)
class GroundTruth:
    """One sequence's GT: ``rows`` as read (``frame,id,x,y,w,h,conf,class,visibility``)."""

    name: str
    length: int
    rows: np.ndarray
    path: Path


def gt_path(mot_dir: str | Path, name: str) -> Path:
    return Path(mot_dir) / name / "gt" / "gt.txt"


def load_gt(mot_dir: str | Path, name: str, rules: IgnoreRules = IgnoreRules()) -> GroundTruth:
    """Read ``<mot_dir>/<name>/{seqinfo.ini,gt/gt.txt}`` and validate frames and ids: one id per
    frame among the rows ``rules`` evaluates (pass the evaluation's ``ignore_rules``; the default
    exempts zero-marked rows only)."""
    info = read_seqinfo(Path(mot_dir) / name / "seqinfo.ini")
    path = gt_path(mot_dir, name)
    rows = read_mot(path, "gt")
    check_rows(path, rows, info.length, unique_ids=True, exempt=rules.ignored(rows) if len(rows) else None)
    unnamed = np.flatnonzero((rows[:, 1] < 0) & (rows[:, 6] != 0)) if len(rows) else []
    if len(unnamed):  # KITTI's DontCare rows carry id -1: they must be zero-marked
        raise InputError(path, f"a GT row without an identity (id {int(rows[unnamed[0], 1])}) must be an "
                               "ignore row (conf 0)", line=line_of_row(path, int(unnamed[0])))
    return GroundTruth(name=name, length=info.length, rows=rows, path=path)


def load_results(results_dir: str | Path, name: str, length: int) -> np.ndarray:
    """Read ``<results_dir>/<name>.txt``. Empty is valid (no tracks); missing is an InputError."""
    path = Path(results_dir) / f"{name}.txt"
    if not path.is_file():
        raise InputError(path, f"missing result file for sequence {name} (an empty file means no tracks)")
    rows = read_mot(path, "result")
    check_rows(path, rows, length, unique_ids=True)
    return rows


def load_detections(dets_dir: str | Path, name: str, length: int) -> np.ndarray:
    """``<dets_dir>/<name>.txt`` through :func:`nuscmot.common.mot.read_dets` (its policy)."""
    return read_dets(Path(dets_dir) / f"{name}.txt", length)


def frame_groups(frames: np.ndarray, ids: np.ndarray, length: int) -> list[np.ndarray]:
    """Row indices for each frame ``1..length`` (index ``t - 1``), sorted by id within a frame.

    One lexsort and one searchsorted for the whole sequence (no per-row Python).
    """
    frames = np.asarray(frames, dtype=np.int64)
    order = np.lexsort((np.asarray(ids), frames))
    bounds = np.searchsorted(frames[order], np.arange(1, length + 2), side="left")
    return [order[bounds[t] : bounds[t + 1]] for t in range(length)]
