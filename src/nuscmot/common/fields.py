"""Config fields: the one home of every config key's type, default and range.

A config slice is a frozen dataclass. Each field's annotation is its type; :func:`limited`
gives it its default and its limits in JSON-schema words (``minimum``, ``exclusiveMaximum``,
``enum``, ``pattern``, ``minItems``, ``uniqueItems``, ``items`` for each element of a tuple,
``additionalProperties`` for each value of a mapping, ...), kept in the field's metadata.
:func:`check_fields` checks an instance against both; ``workflow/schemas/*.schema.yaml``
repeat them for Snakemake's validation at load, and ``tests/test_config_schema.py`` fails on
any difference between a slice's schema and its dataclass.

One wording for every bad value: ``<where> [<key>]: <key> must be <what>, got <value>``.

Torch- and numpy-free: it is imported when the Snakefile is parsed.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
import types
import typing
from typing import Any

from nuscmot.common.errors import InputError

# JSON-schema words a field may declare: number bounds (with the test each applies), the rest.
BOUNDS = {
    "minimum": (operator.ge, ">="),
    "exclusiveMinimum": (operator.gt, ">"),
    "maximum": (operator.le, "<="),
    "exclusiveMaximum": (operator.lt, "<"),
}
KEYWORDS = (*BOUNDS, "multipleOf", "enum", "pattern", "minLength", "minItems", "maxItems", "uniqueItems",
            "items", "additionalProperties")
NESTED = ("items", "additionalProperties")  # limits of each element / each mapping value

# Ranges many fields share.
UNIT = {"minimum": 0, "maximum": 1}
AT_LEAST_0 = {"minimum": 0}
AT_LEAST_1 = {"minimum": 1}
POSITIVE = {"exclusiveMinimum": 0}
NON_EMPTY_SET = {"minItems": 1, "uniqueItems": True}  # a list of distinct values, at least one

_KINDS = {float: ("a number", "numbers"), int: ("an integer", "integers"), bool: ("true or false", "true/false values"),
          str: ("a string", "strings")}


def _checked_keywords(limits: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(limits) - set(KEYWORDS))
    if unknown:
        raise TypeError(f"unknown limit keyword(s) {', '.join(unknown)} (JSON-schema words: {', '.join(KEYWORDS)})")
    for key in NESTED:
        if key in limits:
            _checked_keywords(limits[key])
    return limits


def limited(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING, **limits: Any) -> Any:
    """A dataclass field with ``default`` (or ``default_factory``) and ``limits`` in JSON-schema
    words, kept in the field's metadata for :func:`check_fields` and the schema agreement test."""
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={"limits": _checked_keywords(dict(limits))})


def limits_of(f: dataclasses.Field) -> dict[str, Any]:
    """The limits a field declares (empty: any value of its type)."""
    return dict(f.metadata.get("limits", {}))


def field_limits(cls: type) -> dict[str, dict[str, Any]]:
    """``{field: limits}`` of a config dataclass (fields without limits left out)."""
    return {f.name: limits_of(f) for f in dataclasses.fields(cls) if limits_of(f)}


def field_default(f: dataclasses.Field) -> Any:
    """A field's default value (from its factory where it has one)."""
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def show(value: Any) -> str:
    """A value as config.yaml spells it: ``null``, ``true``, ``CAM_FRONT``, ``0.5``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- types ------------------------------------------------------------------------------------
def optional_of(hint: Any) -> Any:
    """``X`` for ``X | None`` (``Optional[X]``), else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0]
    return None


def _plain_problem(kind: type, value: Any) -> str | None:
    words = _KINDS[kind][0]
    if kind is bool:
        return None if isinstance(value, bool) else words
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else kind):
        return words
    if kind is float and not math.isfinite(value):
        return "a finite number"
    return None


def type_problem(hint: Any, value: Any) -> str | None:
    """What ``value`` must be if it is not of type ``hint`` (``a number``, ``a list of 2
    integers``, ``a mapping``), else None. Types: float (finite; an int is a valid float), int,
    bool, str, ``X | None``, ``tuple[X, ...]``, ``tuple[X, X]``, ``list[X]``, ``dict[str, X]``,
    a nested config dataclass; anything else (``Any``) is not checked."""
    if hint in _KINDS:
        return _plain_problem(hint, value)
    inner = optional_of(hint)
    if inner is not None:
        problem = None if value is None else type_problem(inner, value)
        return problem and f"{problem} or null"
    if dataclasses.is_dataclass(hint):
        return None if isinstance(value, hint) else "a mapping"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is dict:
        return None if isinstance(value, dict) and all(type_problem(args[1], v) is None for v in value.values()) \
            else "a mapping"
    if origin in (tuple, list):
        return _sequence_problem(origin is tuple and Ellipsis not in args, args, value)
    return None


def _sequence_problem(fixed: bool, args: tuple, value: Any) -> str | None:
    item = args[0] if args else Any
    if item in _KINDS:
        words = f"a list of {len(args)} {_KINDS[item][1]}" if fixed else f"a list of {_KINDS[item][1]}"
    else:
        words = f"a list of {len(args)} items" if fixed else "a list"
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)) or (fixed and len(value) != len(args)):
        return words
    if any(type_problem(item, v) is not None for v in value):
        return words
    return None


# -- limits -----------------------------------------------------------------------------------
def limit_problem(value: Any, limits: dict[str, Any]) -> str | None:
    """What ``value`` must be if it breaks one of ``limits``, else None."""
    if "enum" in limits and value not in limits["enum"]:
        return f"one of {', '.join(map(show, limits['enum']))}"
    if "pattern" in limits and not re.search(limits["pattern"], value):
        return f"a string matching {limits['pattern']}"
    if "minLength" in limits and len(value) < limits["minLength"]:
        return f"a string of at least {limits['minLength']} character(s)"
    for key, (ok, op) in BOUNDS.items():
        if key in limits and not ok(value, limits[key]):
            return f"{op} {limits[key]}"
    if "multipleOf" in limits and value % limits["multipleOf"]:
        return f"a multiple of {limits['multipleOf']}"
    return _collection_problem(value, limits)


def _collection_problem(value: Any, limits: dict[str, Any]) -> str | None:
    if "minItems" in limits and len(value) < limits["minItems"]:
        return f"a list of at least {limits['minItems']} item(s)"
    if "maxItems" in limits and len(value) > limits["maxItems"]:
        return f"a list of at most {limits['maxItems']} item(s)"
    if limits.get("uniqueItems") and len(set(value)) != len(value):
        return "a list without repeated items"
    for key, elements in (("items", value), ("additionalProperties", value.values() if isinstance(value, dict) else ())):
        if key in limits:
            problem = next((p for p in (limit_problem(v, limits[key]) for v in elements) if p), None)
            if problem:
                return f"{problem} (every {'item' if key == 'items' else 'value'})"
    return None


def bad_value(where: str, key: str, problem: str, value: Any) -> InputError:
    """The one wording of a bad config value: ``<where> [<key>]: <key> must be <problem>, got <value>``."""
    return InputError(where, f"{key} must be {problem}, got {value!r}", key=key)


def check_fields(obj: Any, where: str) -> None:
    """Type and declared limits of every field of dataclass ``obj``; the first bad one is an
    :class:`InputError` ``<where> [<key>]: <key> must be <what>, got <value>``."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        problem = type_problem(hints[f.name], value) or (value is not None and limit_problem(value, limits_of(f)))
        if problem:
            raise bad_value(where, f.name, problem, value)
