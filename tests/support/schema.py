"""Schema agreement: a config slice's JSON schema must say what its dataclass says.

Every field of the dataclass is one property of the slice and the other way round; the
property is exactly what the field's type and limits (:func:`nuscmot.common.fields.limited`)
imply (``type`` or ``enum``, ``items``, ``minItems``, ranges, ...; only ``description`` is
free) and its ``default`` is the field's default, value and JSON type alike (5 is not 5.0).
A nested config dataclass is a nested slice of its own (no default: its fields carry theirs).
"""

from __future__ import annotations

import dataclasses
import typing
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nuscmot.common.fields import NESTED, field_default, limits_of, optional_of

JSON_TYPES = {float: "number", int: "integer", bool: "boolean", str: "string"}
FREE_WORDS = ("description",)
# Words of a slice's own node: ``required`` and ``minProperties`` are the workflow's (a run
# needs a tracker list, a sweep a grid), never a field's.
SLICE_WORDS = {"type", "additionalProperties", "properties", "description", "required", "minProperties"}
ROOT_FILE = "config.schema.yaml"


@dataclass(frozen=True)
class ListsOf:
    """A slice whose keys are the fields of ``cls``, each a non-empty list of distinct values
    of the field's type and limits (the sweep grids); no defaults."""

    cls: type


@dataclass(frozen=True)
class MappingOf:
    """A slice whose keys are free names (``propertyNames``) and whose every value is a slice of
    ``cls`` (the ``detections`` sources): the value schema is checked against ``cls`` as a slice
    is; a field without a default is ``required`` there and has no default in the schema."""

    cls: type


Path_ = tuple[str, ...]


class Schemas:
    """The schema files of one folder, with ``$ref`` resolution across them."""

    def __init__(self, folder: Path):
        self.files = {p.name: yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.schema.yaml"))}

    def target(self, ref: str, file: str) -> tuple[dict, str, str]:
        """The node a ``$ref`` points at, its file and its canonical name ``file#/$defs/x``."""
        other, _, pointer = ref.partition("#")
        file = other or file
        assert pointer.startswith("/$defs/") and pointer.count("/") == 2, ref
        name = pointer.removeprefix("/$defs/")
        return self.files[file]["$defs"][name], file, f"{file}#{pointer}"

    def resolve(self, node: dict, file: str) -> tuple[dict, str, str | None]:
        """``node`` with its ``$ref`` chain merged in (its own words win), the file its
        properties live in and the canonical name of the last ``$ref`` (None: none)."""
        name = None
        while "$ref" in node:
            target, file, name = self.target(node["$ref"], file)
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node, file, name

    def clean(self, node: dict, file: str) -> dict:
        """A property as the agreement compares it: refs merged, free words dropped, the
        element / value schemas cleaned too."""
        node, file, _ = self.resolve(node, file)
        out = {k: v for k, v in node.items() if k not in FREE_WORDS}
        for key in NESTED:
            if isinstance(out.get(key), dict):
                out[key] = self.clean(out[key], file)
        return out

    def node(self, path: Path_) -> tuple[dict, str]:
        """The resolved schema node of a config path (``("tracking", "association")``)."""
        node, file = self.files[ROOT_FILE], ROOT_FILE
        for key in path:
            node, file, _ = self.resolve(node["properties"][key], file)
        return node, file

    def slice_paths(self) -> tuple[set[Path_], set[str]]:
        """Every top-level key and every object node with ``properties`` (a slice), by its
        shortest config path (``pretrain.synth`` is ``synth``'s slice again); and the
        canonical names of the ``$defs`` reached."""
        paths: set[Path_] = set()
        seen: set[str] = set()
        queue = deque([((), self.files[ROOT_FILE], ROOT_FILE)])
        while queue:
            path, node, file = queue.popleft()
            for key, sub in node.get("properties", {}).items():
                sub, sub_file, name = self.resolve(sub, file)
                if name in seen:
                    continue
                if name:
                    seen.add(name)
                if not path or "properties" in sub:
                    paths.add((*path, key))
                queue.append(((*path, key), sub, sub_file))
                if isinstance(sub.get("additionalProperties"), dict) and "$ref" in sub["additionalProperties"]:
                    value, value_file, value_name = self.resolve(sub["additionalProperties"], sub_file)
                    seen.add(value_name)  # a mapping slice's values: checked with it (MappingOf)
        return paths, seen

    def defs_with_properties(self) -> set[str]:
        return {f"{file}#/$defs/{name}" for file, schema in self.files.items()
                for name, node in schema.get("$defs", {}).items() if "properties" in node}


def expected(hint: Any, limits: dict) -> dict:
    """The schema property (less its default) that a field of type ``hint`` with ``limits`` implies."""
    limits = dict(limits)
    nested = {k: limits.pop(k) for k in NESTED if k in limits}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if optional_of(hint) is not None:
        prop = expected(optional_of(hint), {})
        prop["type"] = [prop["type"], "null"]
    elif hint in JSON_TYPES:
        prop = {"type": JSON_TYPES[hint]}
    elif origin in (tuple, list):
        prop = {"type": "array", "items": expected(args[0], nested.get("items", {}))}
        if origin is tuple and Ellipsis not in args:
            prop.update(minItems=len(args), maxItems=len(args))
    elif origin is dict:
        prop = {"type": "object", "additionalProperties": expected(args[1], nested.get("additionalProperties", {}))}
    else:
        raise AssertionError(f"no schema form for the type {hint}")
    if "enum" in limits:
        prop.pop("type")
        limits["enum"] = list(limits["enum"])
    return {**prop, **limits}


def as_json(value: Any) -> Any:
    """A default as YAML / JSON holds it (tuples are lists)."""
    if isinstance(value, (tuple, list)):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


def same_kinds(a: Any, b: Any) -> bool:
    """Equal values of the same JSON types all the way down (5 != 5.0, 1 != True)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same_kinds, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_kinds(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def field_problems(path: Path_, f: dataclasses.Field, hint: Any, prop: dict, lists: bool,
                   elsewhere: dict[Path_, Any]) -> list[str]:
    """How the schema property ``prop`` of slice ``path`` differs from field ``f``."""
    where, sub = ".".join((*path, f.name)), (*path, f.name)
    if dataclasses.is_dataclass(hint) or sub in elsewhere:  # a slice of its own, checked there
        problems = [] if prop.get("type") == "object" and "default" not in prop else [
            f"{where}: a nested slice must be a plain object without a default, got {prop}"]
        if dataclasses.is_dataclass(hint) and elsewhere.get(sub) is not hint:
            problems.append(f"{where}: the nested slice of {hint.__name__} is not mapped to it")
        return problems
    want = expected(hint, limits_of(f))
    if lists:
        want = {"type": "array", "minItems": 1, "uniqueItems": True, "items": want}
    got = {k: v for k, v in prop.items() if k != "default"}
    problems = [] if got == want else [f"{where}: schema {got} != dataclass {want}"]
    if lists:
        return problems + ([f"{where}: a list of values has no default"] if "default" in prop else [])
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
        return problems + ([f"{where}: a required field has no default"] if "default" in prop else [])
    default = as_json(field_default(f))
    if "default" not in prop:
        problems.append(f"{where}: no default in the schema (dataclass: {default!r})")
    elif not same_kinds(prop["default"], default):
        problems.append(f"{where}: default {prop['default']!r} (schema) != {default!r} (dataclass)")
    return problems


def slice_problems(schemas: Schemas, path: Path_, spec: Any, elsewhere: dict[Path_, Any]) -> list[str]:
    """How the schema slice at config ``path`` differs from ``spec`` (a dataclass, :class:`ListsOf`
    or :class:`MappingOf`)."""
    node, file = schemas.node(path)
    if isinstance(spec, MappingOf):
        return mapping_problems(schemas, node, file, path, spec.cls, elsewhere)
    return node_problems(schemas, node, file, path, spec, elsewhere)


def node_problems(schemas: Schemas, node: dict, file: str, path: Path_, spec: Any,
                  elsewhere: dict[Path_, Any]) -> list[str]:
    """How the resolved slice ``node`` (its properties in ``file``) differs from ``spec``."""
    cls, lists = (spec.cls, True) if isinstance(spec, ListsOf) else (spec, False)
    where = ".".join(path)
    problems = [f"{where}: unexpected word {w!r} on the slice" for w in sorted(set(node) - SLICE_WORDS)]
    if node.get("type") != "object" or node.get("additionalProperties") is not False:
        problems.append(f"{where}: a slice must be type: object, additionalProperties: false")
    props = {k: schemas.clean(v, file) for k, v in node.get("properties", {}).items()}
    problems += [f"{where}: required {k!r} is not a property" for k in node.get("required", []) if k not in props]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    problems += [f"{where}.{k}: in the schema, not a field of {cls.__name__}" for k in sorted(set(props) - set(fields))]
    problems += [f"{where}.{k}: a field of {cls.__name__}, not in the schema" for k in sorted(set(fields) - set(props))]
    hints = typing.get_type_hints(cls)
    for name in sorted(set(props) & set(fields)):
        problems += field_problems(path, fields[name], hints[name], props[name], lists, elsewhere)
    required = sorted(k for k, f in fields.items()
                      if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    if required and sorted(node.get("required", [])) != required:
        problems.append(f"{where}: required {sorted(node.get('required', []))} != the fields without a default {required}")
    return problems


def mapping_problems(schemas: Schemas, node: dict, file: str, path: Path_, cls: type,
                     elsewhere: dict[Path_, Any]) -> list[str]:
    """A mapping slice: an object of named values (``propertyNames``), each a ``$ref`` to a slice of ``cls``."""
    where = ".".join(path)
    value = node.get("additionalProperties")
    problems = [f"{where}: unexpected word {w!r} on a mapping slice" for w in sorted(
        set(node) - {"type", "additionalProperties", "propertyNames", "description", "default"})]
    if node.get("type") != "object" or not isinstance(value, dict) or "$ref" not in value:
        return problems + [f"{where}: a mapping slice must be type: object, additionalProperties: {{$ref: ...}}"]
    value, value_file, _ = schemas.resolve(value, file)
    return problems + node_problems(schemas, value, value_file, (*path, "<name>"), cls, elsewhere)
