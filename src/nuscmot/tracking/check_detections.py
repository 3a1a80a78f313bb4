"""Validation of a ``files`` detection source (a folder of MOT detection files from any
detector) before anything tracks it: every sequence of the seqmap has its file (``<src>/<pattern>``,
``{seq}`` in the pattern the sequence's name: ``<src>/<seq>.txt`` by default), every
line is a MOT det row (10 columns, 1-based integer frame, non-negative box), frames lie within
the sequence (``seqinfo.ini`` seqLength), classes within ``1..num_classes`` and scores within
[0, 1] after ``tracking.score_transform``. The first problem is one line naming the file (and
line); only when every sequence passes are the files copied, byte for byte, to the output folder
(swapped into place when complete)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir
from nuscmot.common.mot import line_of_row, read_seqmap
from nuscmot.tracking.inputs import read_detections, read_sequence
from nuscmot.tracking.scores import ScoreTransform

CLASS_COLUMN = 7  # of a MOT det row
NUSCENES_CLASSES = ("car", "truck", "bus", "trailer", "pedestrian", "motorcycle", "bicycle")
DEFAULT_PATTERN = "{seq}.txt"


def check_classes(path: Path, rows: np.ndarray, num_classes: int, names: tuple[str, ...] = ()) -> None:
    """Every row's class within ``1..num_classes``; the first one outside names its line
    (``names``: the classes' names, for the message; default nuScenes' seven)."""
    if not len(rows):
        return
    classes = rows[:, CLASS_COLUMN].astype(np.int64)
    bad = np.flatnonzero((classes < 1) | (classes > num_classes))
    if len(bad):
        names = names or (NUSCENES_CLASSES if num_classes == len(NUSCENES_CLASSES) else ())
        named = f": {', '.join(names)}" if names else ""
        raise InputError(path, f"unknown class {classes[bad[0]]} (classes are 1..{num_classes}{named})",
                         line=line_of_row(path, int(bad[0])))


def check_sequence(src_dir: Path, mot_dir: Path, seqmap: Path, name: str, transform: ScoreTransform,
                   num_classes: int, pattern: str = DEFAULT_PATTERN, names: tuple[str, ...] = ()) -> Path:
    """One sequence's detection file (``<src_dir>/<pattern>``), checked; its path."""
    path = src_dir / pattern.replace("{seq}", name)
    if not path.is_file():
        raise InputError(path, f"missing detection file of sequence {name} of the seqmap {seqmap} "
                               "(every sequence needs one; an empty file means no detections)")
    info = read_sequence(mot_dir / name / "seqinfo.ini")
    rows = read_detections(path, info, transform)  # columns, frames, scores (tracking's own reader)
    check_classes(path, rows, num_classes, names)
    return path


def check_detections(transform: ScoreTransform, num_classes: int, src_dir: Path, mot_dir: Path, seqmap: Path,
                     out_dir: Path, pattern: str = DEFAULT_PATTERN, classes: tuple[str, ...] = ()) -> list[str]:
    """Check every seqmap sequence's file in ``src_dir`` (``pattern``; ``classes``: the class
    names, when not nuScenes'), then copy them all to ``out_dir`` as ``<seq>.txt``; return the
    sequence names."""
    src_dir = Path(src_dir)
    if not src_dir.is_dir():
        raise InputError(src_dir, "detections folder of the files source does not exist")
    names = read_seqmap(seqmap)
    if not names:
        raise InputError(seqmap, "seqmap lists no sequences")
    files = [check_sequence(src_dir, Path(mot_dir), Path(seqmap), n, transform, num_classes, pattern, classes)
             for n in names]
    with atomic_dir(out_dir) as tmp:
        for name, path in zip(names, files):
            shutil.copyfile(path, tmp / f"{name}.txt")
    return names
