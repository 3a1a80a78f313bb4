"""Schema agreement: a config slice's JSON schema must say what its dataclass says (keys,
types, defaults, choices and, where the dataclass declares them, ranges)."""

from __future__ import annotations

import dataclasses
import typing

from nuscmot.tracking.config import RANGE_KEYWORDS, field_range

SCHEMA_TYPES = {float: "number", int: "integer", bool: "boolean"}


def resolve(node: dict, schema: dict) -> dict:
    """``node`` with a local ``$ref`` (``#/$defs/...``) merged in (its own keys win)."""
    ref = node.get("$ref")
    if ref is None:
        return node
    assert ref.startswith("#/$defs/"), ref
    target = schema["$defs"][ref.removeprefix("#/$defs/")]
    return {**resolve(target, schema), **{k: v for k, v in node.items() if k != "$ref"}}


def slice_properties(schema: dict, path: tuple[str, ...]) -> dict[str, dict]:
    node = schema["$defs"][path[0]]
    for key in path[1:]:
        node = resolve(node["properties"][key], schema)
    return {k: resolve(v, schema) for k, v in node["properties"].items()}


def expected(cls: type, choices: dict, ranges: bool) -> dict[str, dict]:
    """The schema property each field of ``cls`` implies: type or enum, default, range."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if kind is str:
            prop = {"enum": list(choices[f.name])} if f.name in choices else {"type": "string"}
        else:
            prop = {"type": SCHEMA_TYPES[kind]}
        prop["default"] = f.default
        if ranges:
            prop.update(field_range(f))
        out[f.name] = prop
    return out


def described(prop: dict, ranges: bool) -> dict:
    """What the agreement covers of a schema property."""
    keys = ("type", "enum", "default", *(RANGE_KEYWORDS if ranges else ()))
    return {k: prop[k] for k in keys if k in prop}


def check_agreement(schema: dict, path: tuple[str, ...], cls: type, choices: dict, ranges: bool) -> None:
    """Assert that the schema slice at ``$defs/<path>`` agrees with dataclass ``cls``."""
    props = slice_properties(schema, path)
    want = expected(cls, choices, ranges)
    assert sorted(props) == sorted(want), f"{'.'.join(path)}: keys differ from {cls.__name__}"
    for key, prop in want.items():
        got = described(props[key], ranges)
        assert got == prop, f"{'.'.join(path)}.{key}: schema {got} != {cls.__name__} {prop}"
        # == lets 1 equal 1.0 and True equal 1: the types must agree too (an int is a valid number)
        kind = type(prop["default"])
        assert isinstance(got["default"], (int, float) if kind is float else kind), (path, key)
        assert not isinstance(got["default"], bool) or kind is bool, (path, key)
