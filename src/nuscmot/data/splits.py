"""Scene splits: official train/val -> detector train / detector val / tracking test.

Official scene lists: ``nuscenes.utils.splits.create_splits_scenes()`` ('train'/'val' for
``v1.0-trainval``, 'mini_train'/'mini_val' for ``v1.0-mini``); any other version reads
``<dataroot>/<version>/splits.json`` (``{"train": [...], "val": [...]}``).
Official train scenes are divided by scene into detector train/val (sorted names, then a
seeded permutation); official val scenes are the tracking test set and never leave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.io import read_json

OFFICIAL_SPLIT_KEYS = {"v1.0-trainval": ("train", "val"), "v1.0-mini": ("mini_train", "mini_val")}
SPLITS_FILE = "splits.json"


@dataclass(frozen=True)
class Splits:
    detector_train: tuple[str, ...]
    detector_val: tuple[str, ...]
    test: tuple[str, ...]

    def __post_init__(self) -> None:
        check_disjoint(self)

    def to_json(self) -> dict[str, list[str]]:
        return {"detector_train": list(self.detector_train), "detector_val": list(self.detector_val), "test": list(self.test)}


def check_disjoint(splits: Splits) -> None:
    """Raise AssertionError if any scene is in two splits (never silently mix train and test)."""
    parts = {"detector_train": splits.detector_train, "detector_val": splits.detector_val, "test": splits.test}
    names = list(parts)
    for a in range(len(names)):
        if len(set(parts[names[a]])) != len(parts[names[a]]):
            raise AssertionError(f"duplicate scenes in {names[a]}")
        for b in range(a + 1, len(names)):
            common = sorted(set(parts[names[a]]) & set(parts[names[b]]))
            if common:
                raise AssertionError(f"scenes in both {names[a]} and {names[b]}: {common[:5]}")


def official_scenes(version: str, dataroot: str | Path) -> tuple[list[str], list[str]]:
    """(official train scene names, official val scene names) for ``version``."""
    if version in OFFICIAL_SPLIT_KEYS:
        from nuscenes.utils.splits import create_splits_scenes

        train_key, val_key = OFFICIAL_SPLIT_KEYS[version]
        lists = create_splits_scenes(verbose=False)
        return sorted(lists[train_key]), sorted(lists[val_key])
    return read_splits_file(Path(dataroot) / version / SPLITS_FILE)


def read_splits_file(path: Path) -> tuple[list[str], list[str]]:
    """``{"train": [...], "val": [...]}`` from a dataset's splits.json."""
    data = read_json(path, "splits file", missing="missing splits file (needed for a version without official splits)")
    if not isinstance(data, dict):
        raise InputError(path, "must be a JSON object with 'train' and 'val' lists")
    out = []
    for key in ("train", "val"):
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(path, f"'{key}' must be a list of scene names", key=key)
        out.append(sorted(value))
    return out[0], out[1]


def detector_split(train_scenes: Iterable[str], val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Divide official-train scenes into (detector train, detector val), by scene, deterministically.

    Sorted names, then ``default_rng(seed).permutation``; the first
    ``round(val_fraction * n)`` (at least 1, at most n - 1) go to detector val.
    """
    names = sorted(set(train_scenes))
    n = len(names)
    if n < 2:
        raise ValueError(f"need at least 2 official train scenes to split, got {n}")
    n_val = min(max(int(round(val_fraction * n)), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    val = sorted(names[k] for k in order[:n_val])
    train = sorted(names[k] for k in order[n_val:])
    return train, val


def make_splits(
    official_train: Sequence[str],
    official_val: Sequence[str],
    dataset_scenes: Iterable[str],
    val_fraction: float,
    seed: int,
    *,
    source: str | Path,
) -> Splits:
    """Detector train/val and test splits; every listed scene must exist in the dataset (``source`` names the list)."""
    present = set(dataset_scenes)
    for label, names in (("train", official_train), ("val", official_val)):
        missing = sorted(set(names) - present)
        if missing:
            raise InputError(source, f"{len(missing)} {label} scene(s) not in the scene table, e.g. {missing[0]!r}", key=label)
    both = sorted(set(official_train) & set(official_val))
    if both:
        raise InputError(source, f"scene(s) in both train and val, e.g. {both[0]!r}")
    if len(set(official_train)) < 2:
        raise InputError(source, "need at least 2 train scenes (detector train and val)", key="train")
    if not official_val:
        raise InputError(source, "need at least 1 val scene (the tracking test set)", key="val")
    det_train, det_val = detector_split(official_train, val_fraction, seed)
    return Splits(tuple(det_train), tuple(det_val), tuple(sorted(set(official_val))))
