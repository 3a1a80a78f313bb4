"""Detection scores: an optional transform, then a range check.

Every tracker threshold (``tracking.association``) lives in [0, 1], so a score outside it
would silently change what the thresholds mean. The ``tracking.score_transform`` config slice
maps raw detector outputs into [0, 1] first: ``none`` (scores are probabilities already, as
YOLOX's are) or ``sigmoid`` (for a detector that emits logits: ``1 / (1 + exp(-(raw -
offset)))``, so ``offset`` is the raw score that becomes 0.5). A score still outside [0, 1]
after the transform is an :class:`InputError` naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.fields import check_fields, limited
from nuscmot.common.mot import line_of_row

KINDS = ("none", "sigmoid")
SCORE_COLUMN = 6  # of a MOT det row


@dataclass(frozen=True)
class ScoreTransform:
    """The ``tracking.score_transform`` config slice."""

    kind: str = limited("none", enum=KINDS)
    offset: float = 0.0  # sigmoid only: the raw score mapped to 0.5

    def __post_init__(self) -> None:
        check_fields(self, "tracking.score_transform")

    def apply(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        if self.kind == "sigmoid":
            # exp of a large positive argument overflows to inf, giving 0.0: the right limit
            with np.errstate(over="ignore"):
                return 1.0 / (1.0 + np.exp(-(scores - self.offset)))
        return scores


def checked_scores(dets: np.ndarray, path: str | Path, transform: ScoreTransform) -> np.ndarray:
    """``dets`` (MOT det rows, file order) with transformed scores, all in [0, 1]."""
    dets = np.array(dets, dtype=np.float64, copy=True)
    if not len(dets):
        return dets
    dets[:, SCORE_COLUMN] = transform.apply(dets[:, SCORE_COLUMN])
    bad = np.flatnonzero((dets[:, SCORE_COLUMN] < 0.0) | (dets[:, SCORE_COLUMN] > 1.0))
    if len(bad):
        raw = dets[bad[0], SCORE_COLUMN]
        hint = " (a detector that emits logits needs tracking.score_transform.kind: sigmoid)" if transform.kind == "none" else ""
        raise InputError(path, f"detection score {raw:g} is outside [0, 1], the range of every tracking threshold{hint}",
                         line=line_of_row(path, int(bad[0])))
    return dets
