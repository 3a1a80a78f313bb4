"""nuScenes category -> project class mapping (category ids 1..K in the order of ``classes``).

A mapping entry is a prefix on '.'-separated names: ``human.pedestrian`` maps
``human.pedestrian.adult`` and ``human.pedestrian.child`` but not ``human.pedestrianx``.
When several entries match a category the longest (most specific) wins; two classes with
the same entry is an error. Categories matched by no entry are dropped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from nuscmot.common.errors import InputError

log = logging.getLogger(__name__)

CLASSES: tuple[str, ...] = ("car", "truck", "bus", "trailer", "pedestrian", "motorcycle", "bicycle")

DEFAULT_CATEGORY_MAP: dict[str, list[str]] = {
    "car": ["vehicle.car"],
    "truck": ["vehicle.truck"],
    "bus": ["vehicle.bus.bendy", "vehicle.bus.rigid"],
    "trailer": ["vehicle.trailer"],
    "pedestrian": ["human.pedestrian"],
    "motorcycle": ["vehicle.motorcycle"],
    "bicycle": ["vehicle.bicycle"],
}

CONSTRUCTION_CATEGORY = "vehicle.construction"
CONSTRUCTION_CLASS = "truck"


def prefix_matches(prefix: str, name: str) -> bool:
    """True if ``name`` is ``prefix`` or lies below it in the '.'-separated hierarchy."""
    return name == prefix or name.startswith(prefix + ".")


def coco_categories(classes: Sequence[str]) -> list[dict]:
    """COCO ``categories``: ids 1..K in the order of ``classes``."""
    return [{"id": i + 1, "name": name, "supercategory": "object"} for i, name in enumerate(classes)]


def build_category_lookup(
    classes: Sequence[str],
    category_map: Mapping[str, Sequence[str]],
    include_construction: bool,
    dataset_categories: Iterable[str],
    *,
    params_source: str | Path = "--params",
    category_table: str | Path = "category.json",
    section: str = "convert",
) -> dict[str, int]:
    """``{nuScenes category name: class id (1-based)}`` for every dataset category that maps.

    Errors (InputError naming the config key): a class in ``category_map`` that is not in
    ``classes``; an entry that matches no category of the dataset's category table
    (``category_table``); the same entry under two classes.
    """
    classes = list(classes)
    if len(set(classes)) != len(classes):
        raise InputError(params_source, "duplicate class names", key=f"{section}.classes")
    ids = {name: i + 1 for i, name in enumerate(classes)}
    entries: dict[str, list[str]] = {}
    for cls, prefixes in category_map.items():
        if cls not in ids:
            raise InputError(
                params_source,
                f"class {cls!r} is not one of classes {classes}",
                key=f"{section}.category_map.{cls}",
            )
        if isinstance(prefixes, str) or not isinstance(prefixes, Sequence):
            raise InputError(params_source, "must be a list of nuScenes category names", key=f"{section}.category_map.{cls}")
        entries[cls] = list(prefixes)
    if include_construction:
        if CONSTRUCTION_CLASS not in ids:
            raise InputError(
                params_source,
                f"needs class {CONSTRUCTION_CLASS!r} in classes",
                key=f"{section}.include_construction",
            )
        entries.setdefault(CONSTRUCTION_CLASS, []).append(CONSTRUCTION_CATEGORY)

    owner: dict[str, str] = {}
    for cls, prefixes in entries.items():
        for prefix in prefixes:
            if prefix in owner and owner[prefix] != cls:
                raise InputError(
                    params_source,
                    f"category {prefix!r} is mapped to both {owner[prefix]!r} and {cls!r}",
                    key=f"{section}.category_map.{cls}",
                )
            owner[prefix] = cls

    names = sorted(set(dataset_categories))
    for prefix, cls in sorted(owner.items()):
        if not any(prefix_matches(prefix, name) for name in names):
            key = (
                f"{section}.include_construction"
                if prefix == CONSTRUCTION_CATEGORY and CONSTRUCTION_CATEGORY not in category_map.get(cls, [])
                else f"{section}.category_map.{cls}"
            )
            raise InputError(
                category_table,
                f"nuScenes category {prefix!r} (config {key}) matches no category of this dataset",
                key=key,
            )

    lookup: dict[str, int] = {}
    for name in names:
        matches = [p for p in owner if prefix_matches(p, name)]
        if matches:
            best = max(matches, key=len)
            lookup[name] = ids[owner[best]]
    for cls in classes:
        if cls not in entries:
            log.warning("class %r has no category_map entry; it will have no annotations", cls)
    return lookup
