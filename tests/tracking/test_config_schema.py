"""The tracking config slices have one home, their dataclass: ``workflow/schemas/tracking.schema.yaml``
must agree with it on every key, type, default, choice (enums) and, where the dataclass
declares ranges (:func:`nuscmot.tracking.config.ranged`), range."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.tracking import gt_detections, scores
from nuscmot.tracking.config import AssociationConfig, field_range
from nuscmot.tracking.kalman import KalmanConfig
from nuscmot.common.device import DEVICES
from nuscmot.tracking.trackssm import config as motion_config
from nuscmot.tracking.trackssm import train
from support.schema import check_agreement

# schema path below $defs -> (dataclass, choices of its str fields, whether it declares ranges)
SLICES = {
    ("tracking", "association"): (AssociationConfig, {}, True),
    ("trackssm",): (train.TrainConfig, {"head": train.HEADS, "loss": train.LOSSES, "device": DEVICES}, False),
    ("gt_detections",): (gt_detections.DegradeConfig, {"drop_mode": gt_detections.DROP_MODES}, False),
    ("tracking", "score_transform"): (scores.ScoreTransform, {"kind": scores.KINDS}, False),
    ("tracking", "motion", "kalman"): (KalmanConfig, {}, False),
    ("tracking", "motion", "trackssm"): (
        motion_config.TrackSSMMotionConfig,
        {"device": DEVICES, "rollout_fallback": motion_config.FALLBACKS},
        False,
    ),
}


@pytest.fixture(scope="module")
def schema(repo_root) -> dict:
    return yaml.safe_load((repo_root / "workflow" / "schemas" / "tracking.schema.yaml").read_text())


@pytest.mark.parametrize("path", sorted(SLICES), ids=".".join)
def test_schema_agrees_with_the_dataclass(schema, path):
    check_agreement(schema, path, *SLICES[path])


def test_association_ranges_are_enforced():
    """Every declared range rejects a value just outside it, naming the key in one line."""
    for f in dataclasses.fields(AssociationConfig):
        for keyword, bound in field_range(f).items():
            outside = bound - 0.5 if keyword in ("minimum", "exclusiveMinimum") else bound + 0.5
            if keyword.startswith("exclusive"):
                outside = bound
            with pytest.raises(InputError, match=rf"^tracking\.association \[{f.name}\]: must be .*, got "):
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
