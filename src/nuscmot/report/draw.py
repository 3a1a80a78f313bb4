"""Drawing tracked frames with Pillow: GT and each tracker's boxes with their ids, one colour per
tracker, the switching object highlighted. Used by :mod:`nuscmot.report.gallery`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

GT_COLOUR = (255, 255, 255)
SWITCH_COLOUR = (255, 220, 0)
TRACKER_COLOURS = ((60, 140, 255), (255, 120, 20), (40, 200, 90), (220, 60, 200))


@dataclass(frozen=True)
class Footage:
    """One test sequence as the gallery needs it: image paths, GT rows and each run's rows."""

    name: str
    images: list[Path]
    gt: np.ndarray
    tracks: dict[str, np.ndarray]

    def rows(self, table: np.ndarray, frame: int) -> np.ndarray:
        return table[table[:, 0] == frame]


def font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def box_xyxy(row: np.ndarray) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in row[2:6])
    return x, y, x + w, y + h


def draw_boxes(draw, rows: np.ndarray, colour, width: int, label: str | None, size: int, below: bool = False) -> None:
    """Boxes of ``rows`` (grown outwards by ``width``); ``label`` (``{id}`` formatted) above each
    box (``below``: under it, so two trackers' ids on one object stay apart)."""
    for r in rows:
        x1, y1, x2, y2 = box_xyxy(r)
        g = width - 1
        draw.rectangle([x1 - g, y1 - g, x2 + g, y2 + g], outline=colour, width=width)
        if label is not None:
            text = label.format(id=int(r[1]))
            y = y2 + 1 if below else max(0.0, y1 - size - 1)
            draw.text((x1 + 1, y), text, fill=colour, font=font(size),
                      stroke_width=1, stroke_fill=(0, 0, 0))


def draw_frame(seq: Footage, frame: int, runs: Sequence[str], colours: Mapping[str, tuple], *, gt_id: int | None,
               scale: float = 1.0):
    """Frame ``frame`` (1-based) with GT (white), the switching object (yellow, thick) and each
    run's boxes with ids, drawn at ``scale`` of the image size."""
    from PIL import Image, ImageDraw

    img = Image.open(seq.images[frame - 1]).convert("RGB")
    if scale != 1.0:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    draw = ImageDraw.Draw(img)
    size = max(9, round(11 * max(scale, 0.8)))

    def scaled(rows: np.ndarray) -> np.ndarray:
        out = rows.copy()
        out[:, 2:6] *= scale
        return out

    gt = seq.rows(seq.gt, frame)
    draw_boxes(draw, scaled(gt[gt[:, 1] != gt_id]), GT_COLOUR, 1, None, size)
    if gt_id is not None:  # under the trackers' boxes, wider, so both stay visible
        draw_boxes(draw, scaled(gt[gt[:, 1] == gt_id]), SWITCH_COLOUR, 4, None, size)
    for k, run in enumerate(runs):
        draw_boxes(draw, scaled(seq.rows(seq.tracks[run], frame)), colours[run], 1, "{id}", size, below=k % 2 == 1)
    return img


def crop_region(seq: Footage, frames: Sequence[int], gt_id: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A square-ish window around the object's GT boxes over ``frames`` (margin: its size, at
    least 48 px), clamped to the image."""
    rows = seq.gt[(seq.gt[:, 1] == gt_id) & np.isin(seq.gt[:, 0], frames)]
    x1, y1 = rows[:, 2].min(), rows[:, 3].min()
    x2, y2 = (rows[:, 2] + rows[:, 4]).max(), (rows[:, 3] + rows[:, 5]).max()
    margin = max(48.0, x2 - x1, y2 - y1)
    w, h = size
    return (int(max(0, x1 - margin)), int(max(0, y1 - margin)), int(min(w, x2 + margin)), int(min(h, y2 + margin)))


def caption_bar(width: int, text: str, height: int = 18):
    from PIL import Image, ImageDraw

    bar = Image.new("RGB", (width, height), (30, 30, 30))
    ImageDraw.Draw(bar).text((4, 2), text, fill=(240, 240, 240), font=font(12))
    return bar
