"""The stage layer: one thin module per Snakemake rule, named after the rule, declaring the
frozen config dataclasses it reads."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from nuscmot.stages import config_slices, stage_names

ROOT = Path(__file__).resolve().parents[1]
STAGES = ROOT / "src" / "nuscmot" / "stages"
MAX_FUNCTION_LINES = 40  # argument parsing only; the work is one call into the package below


def rule_stages() -> dict[str, str]:
    """Rule name -> the stage its shell runs, for every rule that has its own shell
    (``use rule X as Y`` variants inherit X's)."""
    text = "".join(p.read_text() for p in sorted((ROOT / "workflow" / "rules").glob("*.smk")))
    out = {}
    for name, body in re.findall(r"^\s*rule (\w+):\n(.*?)(?=^\s*(?:use )?rule |\Z)", text, re.M | re.S):
        found = re.findall(r"python -m nuscmot\.stages\.(\w+)", body)
        assert len(found) == 1, f"rule {name} runs {found or 'no stage'}"
        out[name] = found[0]
    return out


def test_every_rule_runs_the_stage_named_after_it():
    rules = rule_stages()
    assert len(rules) >= 13
    for rule, stage in rules.items():
        # the pretrain_* rules run the demo's stages on the pretraining world
        assert stage == rule.removeprefix("pretrain_"), f"rule {rule} runs stage {stage}"


def test_every_stage_has_its_rule():
    assert sorted(set(rule_stages().values())) == stage_names()


def test_stages_hold_no_logic():
    for name in stage_names():
        tree = ast.parse((STAGES / f"{name}.py").read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)], f"{name} defines a class"
        functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "main" in functions, name
        for fn in functions.values():
            lines = fn.end_lineno - fn.lineno + 1
            assert lines <= MAX_FUNCTION_LINES, f"{name}.{fn.name} has {lines} lines"


def test_stages_declare_frozen_config_dataclasses():
    slices = config_slices()
    assert {"detector", "tracking.association", "evaluation", "synth", "sweep"} <= set(slices)
    for key, cls in slices.items():
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, key
