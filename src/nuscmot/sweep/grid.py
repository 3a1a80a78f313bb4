"""Parameter grids as Snakemake ``Paramspace`` cells with stable, typed names.

A grid maps association keys (and motion-model keys as ``<tracker>__<key>``, scikit-learn's
nested-parameter spelling, see :func:`parameter_types`) to lists of values. Every combination is a cell, named
``key~value/key~value/...`` with the keys in sorted order (so the order of keys in
``config.yaml`` does not rename cells) and every value formatted by :func:`format_value`
according to the key's declared type, never by the dtype pandas would infer for a column:
``0.80`` and ``0.8`` both give ``0.8``, a float key's ``1`` gives ``1.0``, and adding a float
to a list of integers does not rename the existing cells. A cell's name and typed values
depend only on its own values, so adding a value to a grid adds cells without touching the
others.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import typing
from typing import Any, Mapping, Sequence

from nuscmot.common.errors import InputError

SEP = "~"
MOTION_SEP = "__"  # <tracker>__<motion key>
_SAFE = re.compile(r"^[A-Za-z0-9_.+-]+$")


def association_types() -> dict[str, type]:
    """The declared type (``float``, ``int`` or ``bool``) of every ``tracking.association`` key."""
    from nuscmot.tracking.config import AssociationConfig

    hints = typing.get_type_hints(AssociationConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(AssociationConfig)}


def motion_types() -> dict[str, type]:
    """``<tracker>__<key>`` -> type for every plain (float, int, bool, str) key of every
    registered motion model's slice (:mod:`nuscmot.tracking.models`; a Python identifier, as
    Paramspace needs for its wildcard and column names). A model with an empty slice adds none:
    its cells are the association's alone."""
    from nuscmot.tracking.models import REGISTRY

    out = {}
    for tracker, spec in REGISTRY.items():
        hints = typing.get_type_hints(spec.config)
        for f in dataclasses.fields(spec.config):
            if hints[f.name] in (float, int, bool, str):
                out[f"{tracker}{MOTION_SEP}{f.name}"] = hints[f.name]
    return out


def parameter_types() -> dict[str, type]:
    """Every key a sweep grid may vary: the association's and the motion slices'."""
    return {**association_types(), **motion_types()}


def coerce(value: Any, kind: type, *, where: str = "sweep.grid", key: str = "") -> Any:
    """``value`` as a plain Python value of ``kind`` (bool, int, float or str)."""
    bad = InputError(where, f"{value!r} is not a valid {kind.__name__}", key=key)
    if kind is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise bad
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad
        return float(value)
    if kind is str:
        if not isinstance(value, str) or not _SAFE.match(value):
            raise bad
        return value
    raise TypeError(f"unsupported grid value type {kind!r}")


def format_value(value: Any) -> str:
    """Canonical path text of a typed value: ``true``/``false``, ``30``, ``0.8``, ``1.0``.

    Floats use Python's shortest round-trip ``repr``: the same number always gives the same
    text, and different numbers never collide.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str) and _SAFE.match(value):
        return value
    raise TypeError(f"cannot name a grid value {value!r}")


@dataclasses.dataclass(frozen=True)
class Cell:
    """One grid combination: its path name and typed values (sorted by key)."""

    name: str
    values: dict[str, Any]


def typed_grid(grid: Mapping[str, Sequence[Any]], types: Mapping[str, type], *, where: str = "sweep.grid") -> dict[str, list[Any]]:
    """The grid with sorted keys and values coerced to their declared type; checks it is well formed."""
    if not grid:
        raise InputError(where, "the grid has no parameters")
    out: dict[str, list[Any]] = {}
    for key in sorted(grid):
        if key not in types:
            raise InputError(where, f"unknown parameter (known: {', '.join(sorted(types))})", key=key)
        values = grid[key]
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise InputError(where, "must be a non-empty list of values", key=key)
        typed = [coerce(v, types[key], where=where, key=key) for v in values]
        names = [format_value(v) for v in typed]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InputError(where, f"duplicate value(s) {', '.join(dupes)}", key=key)
        out[key] = typed
    return out


def cells(grid: Mapping[str, Sequence[Any]], types: Mapping[str, type], *, where: str = "sweep.grid") -> list[Cell]:
    """Every combination of the grid, in the order of the (sorted-key) product."""
    typed = typed_grid(grid, types, where=where)
    keys = list(typed)
    out = []
    for combo in itertools.product(*typed.values()):
        values = dict(zip(keys, combo))
        out.append(Cell(cell_name(values), values))
    return out


def cell_name(values: Mapping[str, Any]) -> str:
    """``key~value/...`` in sorted key order (Paramspace's default directory layout)."""
    return "/".join(f"{k}{SEP}{format_value(values[k])}" for k in sorted(values))


def parse_cell_name(name: str) -> dict[str, str]:
    """The ``{key: value text}`` of a cell name (the inverse of :func:`cell_name`, as text)."""
    out = {}
    for part in name.strip("/").split("/"):
        key, sep, value = part.partition(SEP)
        if not sep or not key or not value:
            raise ValueError(f"not a grid cell name: {name!r}")
        out[key] = value
    return out


def wildcard_regex(keys: Sequence[str]) -> str:
    """Regex a single ``{cell}`` wildcard must match: one ``key~value`` folder per key."""
    return "/".join(f"{re.escape(k)}{SEP}[^/]+" for k in sorted(keys))


def paramspace(grid_cells: Sequence[Cell], single_wildcard: str | None = None):
    """A :class:`snakemake.utils.Paramspace` over the cells, holding the canonical value text.

    Its ``instance_patterns`` are exactly the cell names (string columns, so pandas never
    re-formats a number).
    """
    import pandas as pd
    from snakemake.utils import Paramspace

    if not grid_cells:
        raise ValueError("no cells")
    keys = sorted(grid_cells[0].values)
    frame = pd.DataFrame(
        [[format_value(c.values[k]) for k in keys] for c in grid_cells], columns=keys, dtype=object
    )
    return Paramspace(frame, param_sep=SEP, single_wildcard=single_wildcard)
