"""Typed config slices: build (nested) dataclasses from plain dicts, strictly.

Unknown keys are an error (a typo in ``config.yaml`` must not be silently ignored);
missing keys take the dataclass default.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

from nuscmot.common.errors import InputError
from nuscmot.common.fields import bad_value, type_problem

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any] | None, *, where: str = "config") -> T:
    """Instantiate dataclass ``cls`` from ``data``; nested dataclass fields recurse."""
    data = dict(data or {})
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls} is not a dataclass")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InputError(where, f"unknown key(s) {', '.join(unknown)}", key=where.split(":")[-1])
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        ftype = hints[f.name]
        if dataclasses.is_dataclass(ftype) and isinstance(value, dict):
            value = from_dict(ftype, value, where=f"{where}.{f.name}")
        else:
            if typing.get_origin(ftype) is tuple and isinstance(value, list):
                value = tuple(value)
            problem = type_problem(ftype, value)
            if problem:
                raise bad_value(where, f.name, problem, value)
        kwargs[f.name] = value
    return cls(**kwargs)


def to_dict(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)
