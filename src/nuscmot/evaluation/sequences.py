"""Load and validate one sequence's GT, results and detections; group rows by frame.

All MOT text goes through :mod:`nuscmot.common.mot` (which names file and line on a bad
line). On top of that, this module checks what only makes sense per sequence: frames within
``seqLength`` and no id twice in one frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.mot import read_mot, read_seqinfo


@dataclass(frozen=True)
class GroundTruth:
    """One sequence's GT: ``rows`` as read (``frame,id,x,y,w,h,conf,class,visibility``)."""

    name: str
    length: int
    rows: np.ndarray
    path: Path


def gt_path(mot_dir: str | Path, name: str) -> Path:
    return Path(mot_dir) / name / "gt" / "gt.txt"


def load_gt(mot_dir: str | Path, name: str) -> GroundTruth:
    """Read ``<mot_dir>/<name>/{seqinfo.ini,gt/gt.txt}`` and validate frames and ids."""
    info = read_seqinfo(Path(mot_dir) / name / "seqinfo.ini")
    path = gt_path(mot_dir, name)
    rows = read_mot(path, "gt")
    _check_rows(path, rows, info.length, unique_ids=True)
    return GroundTruth(name=name, length=info.length, rows=rows, path=path)


def load_results(results_dir: str | Path, name: str, length: int) -> np.ndarray:
    """Read ``<results_dir>/<name>.txt``. Empty is valid (no tracks); missing is an InputError."""
    path = Path(results_dir) / f"{name}.txt"
    if not path.is_file():
        raise InputError(path, f"missing result file for sequence {name} (an empty file means no tracks)")
    rows = read_mot(path, "result")
    _check_rows(path, rows, length, unique_ids=True)
    return rows


def load_detections(dets_dir: str | Path, name: str, length: int) -> np.ndarray:
    """Read ``<dets_dir>/<name>.txt`` (MOT det format). Empty is valid; missing is an InputError."""
    path = Path(dets_dir) / f"{name}.txt"
    if not path.is_file():
        raise InputError(path, f"missing detection file for sequence {name}")
    rows = read_mot(path, "det")
    _check_rows(path, rows, length, unique_ids=False)
    return rows


def _check_rows(path: Path, rows: np.ndarray, length: int, *, unique_ids: bool) -> None:
    if not len(rows):
        return
    frames = rows[:, 0].astype(np.int64)
    beyond = np.flatnonzero(frames > length)
    if beyond.size:
        i = int(beyond[0])
        raise InputError(
            path, f"frame {frames[i]} is beyond the sequence length {length} (seqinfo.ini)", line=_line_of_row(path, i)
        )
    if unique_ids:
        ids = rows[:, 1].astype(np.int64)
        order = np.lexsort((ids, frames))
        same = (np.diff(frames[order]) == 0) & (np.diff(ids[order]) == 0)
        if same.any():
            i = int(order[np.flatnonzero(same)[0] + 1])
            raise InputError(path, f"id {ids[i]} appears twice in frame {frames[i]}", line=_line_of_row(path, i))


def _line_of_row(path: Path, row: int) -> int | None:
    """1-based line number of the ``row``-th data row (``read_mot`` skips blank lines)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    seen = -1
    for lineno, line in enumerate(lines, start=1):
        if line.strip():
            seen += 1
            if seen == row:
                return lineno
    return None


def frame_groups(frames: np.ndarray, ids: np.ndarray, length: int) -> list[np.ndarray]:
    """Row indices for each frame ``1..length`` (index ``t - 1``), sorted by id within a frame.

    One lexsort and one searchsorted for the whole sequence (no per-row Python).
    """
    frames = np.asarray(frames, dtype=np.int64)
    order = np.lexsort((np.asarray(ids), frames))
    bounds = np.searchsorted(frames[order], np.arange(1, length + 2), side="left")
    return [order[bounds[t] : bounds[t + 1]] for t in range(length)]
