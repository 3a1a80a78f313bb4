"""The evaluation config slices have one home, their dataclass: ``workflow/schemas/evaluation.schema.yaml``
must agree with it on every key, type and default."""

from __future__ import annotations

import pytest
import yaml

from nuscmot.evaluation.compare import CompareConfig
from nuscmot.evaluation.metrics import EvaluationConfig
from support.schema import check_agreement

# schema path below $defs -> (dataclass, choices of its str fields, whether it declares ranges)
SLICES = {
    ("evaluation",): (EvaluationConfig, {}, False),
    ("compare",): (CompareConfig, {}, False),
}


@pytest.fixture(scope="module")
def schema(repo_root) -> dict:
    return yaml.safe_load((repo_root / "workflow" / "schemas" / "evaluation.schema.yaml").read_text())


@pytest.mark.parametrize("path", sorted(SLICES), ids=".".join)
def test_schema_agrees_with_the_dataclass(schema, path):
    check_agreement(schema, path, *SLICES[path])
