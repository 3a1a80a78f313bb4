"""The ``tracking.association`` config slice, the one home of its defaults, types and ranges.

:class:`AssociationConfig` declares every association key once: its type (the annotation),
its default and its range (JSON-schema keywords in the field's metadata, see :func:`ranged`).
``workflow/schemas/tracking.schema.yaml`` repeats them for Snakemake's validation at load, and
``tests/tracking/test_config_schema.py`` fails on any difference between the two.

Torch- and numpy-free, so that the sweep planner can read the keys when the Snakefile is parsed.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import typing
from dataclasses import dataclass
from typing import Any

from nuscmot.common.errors import InputError

WHERE = "tracking.association"

# JSON-schema range keywords a field may declare (see ``ranged``) and the test each one applies.
RANGE_KEYWORDS = {
    "minimum": operator.ge,
    "exclusiveMinimum": operator.gt,
    "maximum": operator.le,
    "exclusiveMaximum": operator.lt,
}
_KINDS = {float: "a finite number", int: "an integer", bool: "true or false", str: "a string"}


def ranged(default: Any, **bounds: float) -> Any:
    """A dataclass field with ``default`` and a range given as JSON-schema keywords
    (``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``), kept in the field's
    metadata under ``"range"`` for :func:`check_fields` and the schema agreement test."""
    unknown = sorted(set(bounds) - set(RANGE_KEYWORDS))
    if unknown:
        raise TypeError(f"unknown range keyword(s) {', '.join(unknown)}")
    return dataclasses.field(default=default, metadata={"range": dict(bounds)})


def field_range(f: dataclasses.Field) -> dict[str, float]:
    """The range a field declares (empty: any value of its type)."""
    return dict(f.metadata.get("range", {}))


def describe(kind: type, bounds: dict[str, float]) -> str:
    """``a finite number in [0, 1]``, ``an integer >= 1``: what a field accepts, in words."""
    low = [(k, v) for k, v in bounds.items() if k in ("minimum", "exclusiveMinimum")]
    high = [(k, v) for k, v in bounds.items() if k in ("maximum", "exclusiveMaximum")]
    text = _KINDS[kind]
    if low and high:
        (lk, lv), (hk, hv) = low[0], high[0]
        return f"{text} in {'[' if lk == 'minimum' else '('}{lv:g}, {hv:g}{']' if hk == 'maximum' else ')'}"
    for key, value in low + high:
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[key]
        text += f" {op} {value:g}"
    return text


def _valid(kind: type, value: Any, bounds: dict[str, float]) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is int and not isinstance(value, int):
        return False
    if kind is float and not (isinstance(value, (int, float)) and math.isfinite(value)):
        return False
    if kind is str and not isinstance(value, str):
        return False
    return all(RANGE_KEYWORDS[key](value, bound) for key, bound in bounds.items())


def check_fields(obj: Any, where: str) -> None:
    """Type and declared range of every field of dataclass ``obj`` (float, int, bool, str);
    the first bad one is an :class:`InputError` naming ``where`` and the key."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        kind, bounds, value = hints[f.name], field_range(f), getattr(obj, f.name)
        if kind in _KINDS and not _valid(kind, value, bounds):
            raise InputError(where, f"must be {describe(kind, bounds)}, got {value!r}", key=f.name)


def unit(default: float) -> Any:
    """A threshold in [0, 1] (scores and ``1 - IoU`` costs)."""
    return ranged(default, minimum=0, maximum=1)


@dataclass(frozen=True)
class AssociationConfig:
    """How detections become tracks, shared by every motion model (see :mod:`nuscmot.tracking.tracker`).

    Scores: detections with ``score >= track_high_thresh`` enter the first association and can
    start tracks (if ``>= new_track_thresh``); those in ``(track_low_thresh, track_high_thresh)``
    only rescue tracked tracks in the second. Gates are costs ``1 - IoU``: ``match_thresh``
    (first association), ``second_match_thresh`` (second), ``unconfirmed_match_thresh``
    (tentative tracks), ``duplicate_thresh`` (a tracked and a lost track closer than this are
    duplicates; the younger dies). A track is confirmed after ``min_hits`` hits, a lost track is
    kept ``max_age_s`` seconds (converted to frames at each sequence's frame rate). With
    ``per_class`` a track only matches detections of its own class; with ``reanchor`` a track
    re-found after a gap rebuilds its motion state from the new observation (OC-SORT); output
    boxes of at most ``min_box_area`` px^2 are dropped; with ``ego_compensation`` every track
    state is warped by the camera's rotation between frames (needs the sequence's cam_pose.json).
    """

    track_high_thresh: float = unit(0.5)
    track_low_thresh: float = unit(0.1)
    new_track_thresh: float = unit(0.6)
    match_thresh: float = unit(0.8)
    second_match_thresh: float = unit(0.5)
    unconfirmed_match_thresh: float = unit(0.7)
    min_hits: int = ranged(2, minimum=1)
    max_age_s: float = ranged(15.0, minimum=0)
    per_class: bool = True
    reanchor: bool = True
    min_box_area: float = ranged(10.0, minimum=0)
    duplicate_thresh: float = unit(0.15)
    ego_compensation: bool = False

    def __post_init__(self) -> None:
        check_fields(self, WHERE)
        if self.track_low_thresh > self.track_high_thresh:
            raise InputError(WHERE, "track_low_thresh exceeds track_high_thresh", key="track_low_thresh")
