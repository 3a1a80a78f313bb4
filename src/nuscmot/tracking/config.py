"""The ``tracking.association`` config slice, the one home of its defaults, types and ranges.

:class:`AssociationConfig` declares every association key once: its type (the annotation),
its default and its range (JSON-schema keywords in the field's metadata, see
:func:`nuscmot.common.fields.limited`). ``workflow/schemas/tracking.schema.yaml`` repeats them
for Snakemake's validation at load, and ``tests/test_config_schema.py`` fails on any difference
between the two.

Torch- and numpy-free, so that the sweep planner can read the keys when the Snakefile is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nuscmot.common.errors import InputError
from nuscmot.common.fields import AT_LEAST_0, AT_LEAST_1, UNIT, check_fields, limited

WHERE = "tracking.association"


def unit(default: float) -> Any:
    """A threshold in [0, 1] (scores and ``1 - IoU`` costs)."""
    return limited(default, **UNIT)


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
    min_hits: int = limited(2, **AT_LEAST_1)
    max_age_s: float = limited(15.0, **AT_LEAST_0)
    per_class: bool = True
    reanchor: bool = True
    min_box_area: float = limited(10.0, **AT_LEAST_0)
    duplicate_thresh: float = unit(0.15)
    ego_compensation: bool = False

    def __post_init__(self) -> None:
        check_fields(self, WHERE)
        if self.track_low_thresh > self.track_high_thresh:
            raise InputError(WHERE, "track_low_thresh exceeds track_high_thresh", key="track_low_thresh")
