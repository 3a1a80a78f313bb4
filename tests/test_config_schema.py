"""Every config value has one home, its slice's dataclass: ``workflow/schemas/*.schema.yaml``
(Snakemake's validation at load) must agree with it on every key, type, default and limit,
both ways (see :mod:`support.schema`), and no slice of the schema may go unchecked. The motion
models are the registry's (:mod:`nuscmot.tracking.models`): the schema's tracker enum and its
``tracking.motion.*`` / ``sweep.motion.*`` slices must name exactly them."""

from __future__ import annotations

import pytest
import yaml

from nuscmot.common.config import from_dict
from nuscmot.common.dataset import DatasetConfig, MotData
from nuscmot.data.convert import ConvertConfig
from nuscmot.synthetic.config import LightingMix, SynthConfig
from nuscmot.detector.config import DetectorConfig, EvalConfig, InferConfig
from nuscmot.common.sources import DetectionSource, detection_sources
from nuscmot.evaluation.compare import CompareConfig
from nuscmot.evaluation.finetune_config import FinetuneEffectConfig
from nuscmot.evaluation.metrics import EvaluationConfig
from nuscmot.sweep.ablation import GapAblationConfig
from nuscmot.stages import config_slices
from nuscmot.sweep.summary import Objective, SweepConfig
from nuscmot.tracking.config import AssociationConfig
from nuscmot.tracking.gt_detections import DegradeConfig
from nuscmot.tracking.models import REGISTRY
from nuscmot.tracking.scores import ScoreTransform
from nuscmot.tracking.trackssm.train import TrainConfig
from support.schema import ListsOf, MappingOf, Schemas, slice_problems

# config path of a slice -> its dataclass (ListsOf: a grid of lists of the dataclass's values;
# MappingOf: named values, each a slice of the dataclass)
SLICES = {
    ("dataset",): DatasetConfig,
    ("dataset", "mot"): MotData,
    ("synth",): SynthConfig,
    ("synth", "lighting"): LightingMix,
    ("convert",): ConvertConfig,
    ("detector",): DetectorConfig,
    ("evaluate_detector",): EvalConfig,
    ("infer",): InferConfig,
    ("gt_detections",): DegradeConfig,
    ("trackssm",): TrainConfig,
    ("tracking", "score_transform"): ScoreTransform,
    ("tracking", "association"): AssociationConfig,
    **{("tracking", "motion", name): spec.config for name, spec in REGISTRY.items()},
    ("evaluation",): EvaluationConfig,
    ("compare",): CompareConfig,
    ("sweep",): SweepConfig,
    ("sweep", "grid"): ListsOf(AssociationConfig),
    **{("sweep", "motion", name): ListsOf(spec.config) for name, spec in REGISTRY.items()},
    ("sweep", "objective"): Objective,
    ("gap_ablation",): GapAblationConfig,
    ("detections",): MappingOf(DetectionSource),
    ("finetune_effect",): FinetuneEffectConfig,
}
# the keys and objects of the schema that no dataclass holds, and who reads them
NOT_DATACLASS = {
    ("results",): "a folder: the Snakefile's",
    ("tracking",): "sources and trackers: the Snakefile's; its slices are above",
    ("tracking", "motion"): "one slice per motion model (above)",
    ("sweep", "motion"): "one grid per motion model (above)",
    ("pretrain",): "paths: the pretrain rules'; its synth/convert/detector are the slices above",
}
# slices the Snakefile alone reads (they decide which jobs exist; no stage gets them whole)
WORKFLOW_SLICES = {("dataset",)}
ELSEWHERE = {**SLICES, **dict.fromkeys(NOT_DATACLASS)}
DATACLASS_SLICES = sorted(p for p, spec in SLICES.items() if not isinstance(spec, (ListsOf, MappingOf)))


@pytest.fixture(scope="module")
def schemas(repo_root) -> Schemas:
    return Schemas(repo_root / "workflow" / "schemas")


def test_the_stages_declare_exactly_these_slices():
    """SLICES is what the stages read (``nuscmot.stages.<rule>.SLICES``), plus the slices nested
    in a parent's dataclass and the sweep's grids of them."""
    declared = {tuple(key.split(".")): cls for key, cls in config_slices().items()}
    nested = {p for p in DATACLASS_SLICES if p[:-1] in SLICES}  # a field of its parent's dataclass
    assert declared == {p: SLICES[p] for p in DATACLASS_SLICES if p not in nested | WORKFLOW_SLICES}


@pytest.mark.parametrize("path", sorted(SLICES), ids=".".join)
def test_schema_agrees_with_the_dataclass(schemas, path):
    problems = slice_problems(schemas, path, SLICES[path], ELSEWHERE)
    assert not problems, "\n".join(problems)


def test_every_slice_of_the_schema_is_checked(schemas):
    """A new slice (or top-level key) needs its dataclass in SLICES or a line in NOT_DATACLASS;
    every ``$defs`` slice of every schema file is reachable from config.schema.yaml."""
    paths, reached = schemas.slice_paths()
    assert sorted(paths - set(ELSEWHERE)) == [], "slices of the schema without a dataclass in SLICES"
    assert sorted(set(ELSEWHERE) - paths) == [], "SLICES / NOT_DATACLASS paths that are not slices of the schema"
    assert sorted(schemas.defs_with_properties() - reached) == [], "$defs slices config.schema.yaml never uses"


def motion_schema_problems(schemas: Schemas, registry) -> list[str]:
    """Where the schema's motion models differ from ``registry``'s: the tracker enum, the
    ``tracking.motion`` and ``sweep.motion`` slices (each slice's keys: the agreement test)."""
    names = list(registry)
    trackers, file = schemas.node(("tracking", "trackers"))
    found = {"tracking.trackers enum": schemas.clean(trackers["items"], file)["enum"],
             "tracking.motion properties": list(schemas.node(("tracking", "motion"))[0]["properties"]),
             "sweep.motion properties": list(schemas.node(("sweep", "motion"))[0]["properties"])}
    return [f"{where}: {value} is not the registry's {names}" for where, value in found.items() if value != names]


def test_the_schema_lists_exactly_the_registered_motion_models(schemas):
    """Same names, same order, in the tracker enum and both motion mappings; each slice then
    agrees with its model's config dataclass (test_schema_agrees_with_the_dataclass)."""
    problems = motion_schema_problems(schemas, REGISTRY)
    assert not problems, "\n".join(problems)


def test_a_model_missing_from_the_schema_is_named(schemas):
    """The check can fail: a registry with one more model is three problems, one per place."""
    more = {**REGISTRY, "extra": REGISTRY["iou"]}
    problems = motion_schema_problems(schemas, more)
    assert [p.split(":")[0] for p in problems] == ["tracking.trackers enum", "tracking.motion properties",
                                                     "sweep.motion properties"]


@pytest.mark.parametrize("path", DATACLASS_SLICES, ids=".".join)
def test_schema_defaults_build_the_default_config(schemas, path):
    """What Snakemake fills in for a missing slice builds the dataclass's own default."""
    node, file = schemas.node(path)
    props = {k: schemas.clean(v, file) for k, v in node["properties"].items()}
    defaults = {k: prop["default"] for k, prop in props.items() if "default" in prop}
    assert from_dict(SLICES[path], defaults, where=".".join(path)) == SLICES[path]()


def _at(config: dict, path) -> dict | None:
    for key in path:
        config = config.get(key) if isinstance(config, dict) else None
    return config


@pytest.mark.parametrize("config_file", ["config.yaml", "tests/configs/tiny.yaml", "tests/configs/mot_tiny.yaml"])
def test_shipped_configs_build_every_slice(repo_root, config_file):
    config = yaml.safe_load((repo_root / config_file).read_text())
    for path in DATACLASS_SLICES:
        for prefix in ((), ("pretrain",)):
            value = _at(config, prefix + path)
            if value is not None:
                cfg = from_dict(SLICES[path], value, where=".".join(prefix + path))
                if isinstance(cfg, DetectorConfig):
                    cfg.validate()
    detection_sources(config.get("detections"))  # the mapping slice: every source checked


def test_the_detections_default_has_one_home(repo_root):
    """The schema's default detections slice is the code's (a config without one tracks the
    trained detector and GT-derived detections, tracking.sources' default)."""
    from nuscmot.common.sources import DEFAULT_DETECTIONS

    schema = yaml.safe_load((repo_root / "workflow" / "schemas" / "tracking.schema.yaml").read_text())
    assert schema["$defs"]["detections"]["default"] == DEFAULT_DETECTIONS
    sources = schema["$defs"]["tracking"]["properties"]["sources"]["default"]
    assert sorted(sources) == sorted(DEFAULT_DETECTIONS)
