"""The ``tracking.association`` slice: every declared range and type is enforced by the
dataclass itself, and the shipped configs' association validates and builds (the schema's
agreement with every slice's dataclass: tests/test_config_schema.py)."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.fields import BOUNDS, limits_of
from nuscmot.tracking.config import AssociationConfig


@pytest.fixture(scope="module")
def schema(repo_root) -> dict:
    return yaml.safe_load((repo_root / "workflow" / "schemas" / "tracking.schema.yaml").read_text())


def test_association_ranges_are_enforced():
    """Every declared range rejects a value just outside it, naming the key in one line."""
    for f in dataclasses.fields(AssociationConfig):
        for keyword, bound in limits_of(f).items():
            assert keyword in BOUNDS, keyword
            outside = bound - 0.5 if keyword in ("minimum", "exclusiveMinimum") else bound + 0.5
            if keyword.startswith("exclusive"):
                outside = bound
            with pytest.raises(InputError, match=rf"^tracking\.association \[{f.name}\]: {f.name} must be .*, got "):
                AssociationConfig(**{f.name: type(f.default)(outside)})


@pytest.mark.parametrize("key,value", [("match_thresh", True), ("match_thresh", "0.5"), ("match_thresh", float("nan")),
                                       ("max_age_s", float("inf")), ("min_hits", 2.0), ("per_class", 1)])
def test_association_types_are_enforced(key, value):
    with pytest.raises(InputError, match=rf"\[{key}\]"):
        AssociationConfig(**{key: value})


@pytest.mark.parametrize("config_file", ["config.yaml", "tests/configs/tiny.yaml"])
def test_config_association_validates_and_builds(repo_root, schema, config_file):
    """The shipped configs' association validates against the schema and builds the dataclass;
    config.yaml sets every key (so that it documents them all)."""
    import jsonschema

    cfg = yaml.safe_load((repo_root / config_file).read_text())["tracking"]["association"]
    node = schema["$defs"]["tracking"]["properties"]["association"]
    jsonschema.validate(cfg, {**node, "$defs": schema["$defs"]})
    assert from_dict(AssociationConfig, cfg, where="tracking.association") == AssociationConfig(**cfg)
    if config_file == "config.yaml":
        assert set(cfg) == set(node["properties"])
