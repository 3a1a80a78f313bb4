"""The detector's config slices: the full-size recipe as the defaults, limits checked without
the schema (its agreement with the dataclasses: tests/test_config_schema.py), NuscExp built
from the slice, and a resume fingerprint that changes only when what training computes
changes (the committed pretraining state stays resumable)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from nuscmot.common.errors import InputError
from nuscmot.detector.config import DetectorConfig, detector_config, eval_config
from nuscmot.detector.exp import EXP_FIELDS, NuscExp
from nuscmot.detector.training.fingerprint import ADDED_FIELDS, BASELINE, V1_DEFAULTS, changed_fields, fingerprint

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "detector.schema.yaml").read_text())
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
TINY = yaml.safe_load((ROOT / "tests" / "configs" / "tiny.yaml").read_text())

# changed_fields() of config.yaml's pretrain.detector slice, computed by the code that wrote
# weights/demo/pretrain_state (before the defaults moved): the committed state resumes only
# while this stays the same.
PRETRAIN_CFG_PART = {
    "model": "yolox_nano", "allow_scratch": True, "input_size": (256, 448), "multiscale_range": 0,
    "freeze_epochs": 0, "unfreeze_epochs": 20, "basic_lr_per_img": 0.00125, "eval_interval": 1,
    "keep_epoch_ckpts": 0, "mosaic_prob": 0.0, "mixup_prob": 0.0, "hsv_prob": 0.5, "degrees": 0.0,
    "translate": 0.0, "shear": 0.0, "max_iters_per_epoch": 625, "max_val_images": 400,
}

# config.yaml's demo `detector` slice as state format 1 was written against (a literal, so a
# later change of the demo's config does not move the pinned fingerprint below)
DEMO_V1_SLICE = {
    'model': 'yolox_nano', 'num_classes': 7, 'pretrained': '', 'pretrained_sha256':
    'e13464f93f97acc201c266bfd316c1d2e728226a1b48b6593ee1e49c4ac98178', 'allow_scratch': False,
    'input_size': [256, 448], 'multiscale_range': 3, 'batch_size': 8, 'workers': 1, 'threads': 1,
    'freeze_epochs': 1, 'unfreeze_epochs': 4, 'warmup_epochs': 1, 'basic_lr_per_img': 0.0005,
    'min_lr_ratio': 0.05, 'weight_decay': 0.0005, 'momentum': 0.9, 'no_aug_epochs': 1, 'ema': True,
    'amp': True, 'eval_interval': 2, 'keep_epoch_ckpts': 2, 'mosaic_prob': 0.7, 'mixup_prob': 0.4,
    'hsv_prob': 0.5, 'flip_prob': 0.5, 'degrees': 5.0, 'translate': 0.1, 'shear': 2.0, 'mosaic_scale':
    [0.5, 1.5], 'mixup_scale': [0.5, 1.5], 'max_train_images': 0, 'max_iters_per_epoch': 100,
    'max_val_images': 240, 'seed': 0,
}


def resolved(prop: dict) -> dict:
    """A schema property with its local ``$ref`` merged in (the property's own words win)."""
    prop = dict(prop)
    while "$ref" in prop:
        ref = prop.pop("$ref")
        assert ref.startswith("#/$defs/"), ref
        prop = {**SCHEMA["$defs"][ref.removeprefix("#/$defs/")], **prop}
    return prop


def schema_defaults(slice_name: str) -> dict:
    return {k: resolved(v)["default"] for k, v in SCHEMA["$defs"][slice_name]["properties"].items()}


def with_snakemake_defaults(slice_name: str, values: dict) -> dict:
    """``values`` as Snakemake's validation leaves them: missing keys set to the schema default."""
    return {**schema_defaults(slice_name), **values}


def test_default_detector_config_is_the_full_size_recipe():
    cfg = DetectorConfig().validate()
    assert cfg.basic_lr_per_img * 64 == pytest.approx(0.0005)
    assert (cfg.mosaic_prob, cfg.mixup_prob, cfg.hsv_prob, cfg.flip_prob) == (0.7, 0.4, 0.5, 0.5)
    assert (cfg.degrees, cfg.translate, cfg.shear) == (5.0, 0.1, 2.0)
    assert cfg.input_size == (896, 1600)
    heights = {NuscExp(cfg).random_resize(step=s)[0] for s in range(1, 2000)}
    assert heights == set(range(736, 1056 + 1, 32))


@pytest.mark.parametrize("config", [CONFIG["detector"], CONFIG["pretrain"]["detector"], TINY["detector"]],
                         ids=["config.yaml", "config.yaml:pretrain", "tiny.yaml"])
def test_config_files_set_every_detector_key(config):
    import jsonschema

    assert set(config) == {f.name for f in dataclasses.fields(DetectorConfig)}
    jsonschema.validate(config, {**SCHEMA["$defs"]["detector"], "$defs": SCHEMA["$defs"]})
    detector_config(config)


def test_limits_are_checked_without_the_schema():
    with pytest.raises(InputError, match=r"degrees must be <= 180, got 200"):
        detector_config({**TINY["detector"], "degrees": 200})
    with pytest.raises(InputError, match=r"mosaic_scale must be > 0"):
        detector_config({**TINY["detector"], "mosaic_scale": [0.0, 1.5]})
    with pytest.raises(InputError, match=r"conf_threshold must be <= 1, got 1.5"):
        eval_config({**TINY["evaluate_detector"], "conf_threshold": 1.5})


# ---- NuscExp ------------------------------------------------------------------------------
def test_nusc_exp_is_built_from_the_config():
    cfg = detector_config({**TINY["detector"], "eval_conf_threshold": 0.05, "eval_nms_threshold": 0.5})
    exp = NuscExp(cfg)
    assert (exp.test_conf, exp.nmsthre) == (0.05, 0.5)
    for attr, name in EXP_FIELDS.items():
        value = getattr(cfg, name)
        assert getattr(exp, attr) == (tuple(value) if isinstance(value, (list, tuple)) else value), attr
    assert (exp.depth, exp.width, exp.depthwise, exp.max_epoch) == (0.33, 0.25, True, cfg.total_epochs)


def test_in_training_evaluation_uses_the_config_thresholds(monkeypatch):
    import torch

    from nuscmot.detector.training import eval_hook

    seen = {}
    monkeypatch.setattr(eval_hook, "evaluate_coco", lambda *a, **kw: seen.update(kw) or {"AP50": 0.0})
    cfg = detector_config({**TINY["detector"], "eval_conf_threshold": 0.05, "eval_nms_threshold": 0.5})
    hook = eval_hook.EvalHook(cfg, Path("val.json"), Path("."), torch.device("cpu"), None, None, None)
    hook.evaluate(torch.nn.Linear(1, 1))
    assert (seen["conf_threshold"], seen["nms_threshold"]) == (0.05, 0.5)


# ---- the resume fingerprint ---------------------------------------------------------------
def test_pretrain_slice_fingerprint_is_unchanged():
    """The cfg part of the committed pretraining state's fingerprint, with and without the
    defaults that Snakemake's schema validation adds to the slice."""
    pretrain = CONFIG["pretrain"]["detector"]
    assert changed_fields(detector_config(pretrain)) == PRETRAIN_CFG_PART
    assert changed_fields(detector_config(with_snakemake_defaults("detector", pretrain))) == PRETRAIN_CFG_PART
    minimal = {k: v for k, v in pretrain.items() if k not in ADDED_FIELDS}
    assert changed_fields(detector_config(with_snakemake_defaults("detector", minimal))) == PRETRAIN_CFG_PART


def test_fingerprint_of_fixed_inputs_is_unchanged(tmp_path):
    """Whole fingerprints (config part + input digests) as the code of state format 1 computed them."""
    (tmp_path / "t.json").write_text('{"images": [], "split": "train"}\n')
    (tmp_path / "v.json").write_text('{"images": [], "split": "val"}\n')
    files = SimpleNamespace(train_json=tmp_path / "t.json", val_json=tmp_path / "v.json")
    pretrain = detector_config(CONFIG["pretrain"]["detector"])
    demo = detector_config(DEMO_V1_SLICE)
    assert fingerprint(pretrain, files) == "d01416395a44bad6bee8995f452e2bbc9093e057a2b031abf3958452fb23bb3e"
    assert fingerprint(demo, files) == "efadcb5105ae368cbe742a6852020084701a0ca814b313b625a12bd0dc384b22"


def test_fingerprint_compares_with_the_frozen_v1_defaults():
    names = [f.name for f in dataclasses.fields(DetectorConfig)]
    assert set(BASELINE) == set(names) and not set(V1_DEFAULTS) & set(ADDED_FIELDS)
    # the live defaults moved (the full-size recipe): they count as changes against version 1
    moved = changed_fields(DetectorConfig())
    assert {"input_size", "basic_lr_per_img", "mosaic_prob", "mixup_prob", "hsv_prob", "degrees"} <= set(moved)
    assert "eval_conf_threshold" not in moved and "workers" not in moved
    # a field added since is left out at its introduction default only
    assert "eval_nms_threshold" not in changed_fields(DetectorConfig(eval_nms_threshold=0.65))
    assert changed_fields(DetectorConfig(eval_nms_threshold=0.5))["eval_nms_threshold"] == 0.5


def test_committed_pretraining_state_loads_into_the_trainer_parts():
    """weights/demo/pretrain_state/latest.pth: format 1, every key, and its model, optimizer,
    AMP scaler and EMA load into the parts built from config.yaml's pretrain.detector slice."""
    import torch

    from nuscmot.detector import checkpoint as ckpt_io
    from nuscmot.detector.training.distributed import DistContext
    from nuscmot.detector.training.model_parts import ModelParts
    from nuscmot.detector.training.state_store import STATE_FORMAT, STATE_KEYS

    path = ROOT / "weights" / "demo" / "pretrain_state" / "latest.pth"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    state = ckpt_io.load(path, "training state")
    assert state["format"] == STATE_FORMAT and {"format", "fingerprint", "epoch", *STATE_KEYS} == set(state)
    cfg = detector_config(CONFIG["pretrain"]["detector"])
    parts = ModelParts(NuscExp(cfg), cfg, DistContext(), torch.device("cpu"), amp=False,
                       start_epoch=int(state["epoch"]), state=state)
    assert parts.ema is not None and parts.ema.updates == state["ema_updates"]
    assert all(torch.equal(v, state["model"][k]) for k, v in parts.model.state_dict().items())
