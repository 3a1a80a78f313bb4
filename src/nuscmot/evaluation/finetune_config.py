"""The ``finetune_effect`` config slice: which two detection sources ``finetune_effect``
compares, how crowded frames are picked, and the recipe's claims it checks.

Torch- and numpy-free (the Snakefile may read it when it is parsed).
"""

from __future__ import annotations

from dataclasses import dataclass

from nuscmot.common.fields import UNIT, check_fields, limited

NAME = {"pattern": "^[a-z][a-z0-9_]*$"}
RANGE = {"items": UNIT}  # (low, high) of an expected relative change, as a fraction


@dataclass(frozen=True)
class FinetuneEffectConfig:
    """The ``finetune_effect`` slice. Expected ranges are relative changes (fractions) in the
    claimed direction: a reduction for gaps and IDSW, a gain for crowded-frame recall."""

    baseline: str = limited("pretrained", **NAME)  # detection source without fine-tuning
    finetuned: str = limited("finetuned", **NAME)  # detection source after fine-tuning
    tracker: str = limited("trackssm", **NAME)  # the tracker whose IDSW claim is checked (vs compare.baseline)
    crowded_fraction: float = limited(1 / 3, exclusiveMinimum=0, maximum=0.5)  # top (crowded) / bottom (sparse) frames by GT count
    expected_gap_reduction: tuple[float, float] = limited((0.30, 0.40), **RANGE)
    expected_crowded_recall_gain: tuple[float, float] = limited((0.10, 0.15), **RANGE)
    expected_trackssm_idsw_reduction: tuple[float, float] = limited((0.30, 0.40), **RANGE)

    def __post_init__(self) -> None:
        check_fields(self, "finetune_effect")
