"""TrackSSM training data from MOTChallenge-layout GT (``dataset.kind: mot``): the trajectory
tables ``convert`` writes for nuScenes data (schema: :mod:`nuscmot.data.trajectories`), built
from ``<mot_dir>/<seq>/{seqinfo.ini, gt/gt.txt}`` of the sequences of a seqmap.

One row per (GT identity, frame) of the kept rows: ignore rows (conf 0, e.g. MOTChallenge's
distractors, KITTI's DontCare with id -1), rows without an identity (id < 0) and empty boxes are
dropped. ``scene_name`` is the sequence, ``camera`` empty, ``instance_token`` the GT id,
``timestamp`` ``(frame - 1) / frameRate`` in microseconds (TrackSSM measures the frame rate from
it), ``img_w``/``img_h`` seqinfo.ini's, ``class_id`` the GT class column and ``visibility`` -1
(MOTChallenge's visibility is a ratio, not a nuScenes level; TrackSSM does not read it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_path
from nuscmot.common.mot import read_seqinfo, read_seqmap, refuse_test_sequences
from nuscmot.data.trajectories import SCHEMA, write_trajectories
from nuscmot.evaluation.sequences import load_gt


def sequence_rows(mot_dir: Path, name: str) -> list[tuple]:
    """The kept GT rows of one sequence as trajectory rows (without track_id)."""
    info = read_seqinfo(mot_dir / name / "seqinfo.ini")
    if not info.frame_rate > 0:
        raise InputError(mot_dir / name / "seqinfo.ini", f"frameRate must be > 0, got {info.frame_rate:g}")
    gt = load_gt(mot_dir, name).rows
    keep = (gt[:, 6] != 0) & (gt[:, 1] >= 0) & (gt[:, 4] > 0) & (gt[:, 5] > 0)
    return [(name, "", str(int(r[1])), int(r[0]), int(round((r[0] - 1) / info.frame_rate * 1e6)),
             info.width, info.height, float(r[2]), float(r[3]), float(r[4]), float(r[5]), int(r[7]), -1)
            for r in gt[keep]]


def mot_trajectory_table(mot_dir: str | Path, names: Sequence[str]) -> pa.Table:
    """The trajectory table of the GT of ``names`` (track ids 1..N over sorted (sequence, id))."""
    rows = [row for name in names for row in sequence_rows(Path(mot_dir), name)]
    keys = sorted({(r[0], int(r[2])) for r in rows})
    track_of = {key: i + 1 for i, key in enumerate(keys)}
    rows.sort(key=lambda r: (track_of[(r[0], int(r[2]))], r[3]))
    columns = list(zip(*rows)) if rows else [()] * 13
    data = {"track_id": np.array([track_of[(r[0], int(r[2]))] for r in rows], dtype=np.int64)}
    for name, values in zip(SCHEMA.names[1:], columns):
        data[name] = list(values)
    return pa.Table.from_pydict(data, schema=SCHEMA)


def write_mot_trajectories(mot_dir: Path, train_seqmap: Path, val_seqmap: Path, test_seqmap: Path,
                           traj_train: Path, traj_val: Path) -> dict[str, int]:
    """Write the train and val trajectory tables (neither may hold a test sequence); their row counts."""
    test = read_seqmap(test_seqmap)
    out = {}
    for split, seqmap, path in (("train", train_seqmap, traj_train), ("val", val_seqmap, traj_val)):
        names = read_seqmap(seqmap)
        refuse_test_sequences(names, test, seqmap, test_seqmap, "TrackSSM never trains on a test sequence")
        table = mot_trajectory_table(mot_dir, names)
        if not table.num_rows:
            raise InputError(seqmap, f"its sequences' GT holds no trajectory rows ({split})")
        with atomic_path(path) as tmp:
            write_trajectories(tmp, table)
        out[split] = table.num_rows
    return out
