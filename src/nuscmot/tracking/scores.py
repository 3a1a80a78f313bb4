"""Detection scores: an optional transform, then a range check.

Every tracker threshold (``tracking.association``) lives in [0, 1], so a score outside it
would silently change what the thresholds mean. The ``tracking.score_transform`` config slice
maps raw detector outputs into [0, 1] first: ``none`` (scores are probabilities already, as
YOLOX's are) or ``sigmoid`` (for a detector that emits logits: ``1 / (1 + exp(-(raw -
offset)))``, so ``offset`` is the raw score that becomes 0.5; ``class_offsets`` gives one
offset per class, keyed by the det files' class column, for a detector with per-class
thresholds; unlisted classes use ``offset``). A score still outside [0, 1] after the transform
is an :class:`InputError` naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.fields import check_fields, limited
from nuscmot.common.mot import line_of_row

KINDS = ("none", "sigmoid")
SCORE_COLUMN = 6  # of a MOT det row
CLASS_COLUMN = 7


@dataclass(frozen=True)
class ScoreTransform:
    """The ``tracking.score_transform`` config slice."""

    kind: str = limited("none", enum=KINDS)
    offset: float = 0.0  # sigmoid only: the raw score mapped to 0.5
    # sigmoid only: {class id (det class column, >= 1): offset}; other classes use ``offset``.
    # Keys as YAML ints or JSON strings ("1"); kept as canonical decimal strings.
    class_offsets: dict[str, float] = limited(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_offsets", canonical_class_offsets(self.class_offsets))
        check_fields(self, "tracking.score_transform")
        if self.class_offsets and self.kind != "sigmoid":
            raise InputError("tracking.score_transform.class_offsets", f"needs kind: sigmoid (got kind: {self.kind})")

    def offsets(self, classes: np.ndarray | None, n: int) -> np.ndarray | float:
        """The offset of each row (``classes``: the det class column), or ``offset`` for all."""
        if not self.class_offsets or classes is None:
            return self.offset
        out = np.full(n, self.offset, dtype=np.float64)
        classes = np.asarray(classes, dtype=np.float64)
        for key, value in self.class_offsets.items():
            out[classes == int(key)] = value
        return out

    def apply(self, scores: np.ndarray, classes: np.ndarray | None = None) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        if self.kind == "sigmoid":
            offset = self.offsets(classes, len(scores))
            # exp of a large positive argument overflows to inf, giving 0.0: the right limit
            with np.errstate(over="ignore"):
                return 1.0 / (1.0 + np.exp(-(scores - offset)))
        return scores


def canonical_class_offsets(value: Any) -> Any:
    """``{1: 0.3}`` or ``{"1": 0.3}`` -> ``{"1": 0.3}``; a key that is not a class id (an integer
    >= 1) is an :class:`InputError` naming ``tracking.score_transform.class_offsets``; values are
    left to :func:`check_fields`."""
    if not isinstance(value, dict):
        return value  # check_fields names the type
    out = {}
    for key, offset in value.items():
        text = str(key).strip()
        if isinstance(key, bool) or not text.isdigit() or int(text) < 1:
            raise InputError("tracking.score_transform.class_offsets",
                             f"keys must be class ids (integers >= 1, the det files' class column), got {key!r}")
        if str(int(text)) in out:
            raise InputError("tracking.score_transform.class_offsets", f"class {int(text)} is listed twice")
        out[str(int(text))] = offset
    return out


def checked_scores(dets: np.ndarray, path: str | Path, transform: ScoreTransform) -> np.ndarray:
    """``dets`` (MOT det rows, file order) with transformed scores, all in [0, 1]."""
    dets = np.array(dets, dtype=np.float64, copy=True)
    if not len(dets):
        return dets
    dets[:, SCORE_COLUMN] = transform.apply(dets[:, SCORE_COLUMN], dets[:, CLASS_COLUMN])
    bad = np.flatnonzero((dets[:, SCORE_COLUMN] < 0.0) | (dets[:, SCORE_COLUMN] > 1.0))
    if len(bad):
        raw = dets[bad[0], SCORE_COLUMN]
        hint = " (a detector that emits logits needs tracking.score_transform.kind: sigmoid)" if transform.kind == "none" else ""
        raise InputError(path, f"detection score {raw:g} is outside [0, 1], the range of every tracking threshold{hint}",
                         line=line_of_row(path, int(bad[0])))
    return dets
