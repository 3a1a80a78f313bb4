"""Ground-truth 2D box trajectories (TrackSSM training data) as a pyarrow table / parquet file.

One row per (track, frame) over every converted camera: ``track_id`` (int64, 1..N over the
sorted unique (scene_name, camera, instance_token)), ``scene_name``, ``camera``,
``instance_token``, ``frame`` (1-based keyframe index in the scene), ``timestamp``,
``img_w``, ``img_h``, ``x, y, w, h`` (clipped px box), ``class_id`` (1-7), ``visibility``
(level 1-4). Rows sorted by track_id, frame. A track that leaves the image and comes back
keeps its id; the frames it was out of view are simply missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nuscmot.data.records import ImageBoxes

SCHEMA = pa.schema(
    [
        ("track_id", pa.int64()),
        ("scene_name", pa.string()),
        ("camera", pa.string()),
        ("instance_token", pa.string()),
        ("frame", pa.int64()),
        ("timestamp", pa.int64()),
        ("img_w", pa.int64()),
        ("img_h", pa.int64()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("w", pa.float64()),
        ("h", pa.float64()),
        ("class_id", pa.int64()),
        ("visibility", pa.int64()),
    ]
)


def trajectory_table(images: Sequence[ImageBoxes]) -> pa.Table:
    """The trajectory table of ``images`` (all their kept boxes)."""
    rows = []
    for im in images:
        for k, token in enumerate(im.instance_tokens):
            x1, y1, x2, y2 = (float(v) for v in im.xyxy[k])
            rows.append(
                (im.scene_name, im.camera, token, im.frame_index + 1, im.timestamp, im.width, im.height,
                 x1, y1, x2 - x1, y2 - y1, int(im.class_ids[k]), int(im.visibility[k]))
            )
    keys = sorted({r[:3] for r in rows})
    track_of = {key: i + 1 for i, key in enumerate(keys)}
    rows.sort(key=lambda r: (track_of[r[:3]], r[3]))
    columns = list(zip(*rows)) if rows else [()] * 13
    data = {"track_id": np.array([track_of[r[:3]] for r in rows], dtype=np.int64)}
    for name, values in zip(SCHEMA.names[1:], columns):
        data[name] = list(values)
    return pa.Table.from_pydict(data, schema=SCHEMA)


def write_trajectories(path: str | Path, table: pa.Table) -> None:
    """Write ``table`` as parquet at ``path`` (the caller provides atomicity)."""
    pq.write_table(table, str(path))
