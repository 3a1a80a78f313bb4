"""Every preset in presets/ loads through the schema and its target dry-runs; the real-run
preset is the seed's recipe, key by key; the default console is quiet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from .workflow import ROOT, planned_jobs, snakemake, write_config

pytestmark = [pytest.mark.e2e]

PRESETS = sorted(p.name for p in (ROOT / "presets").glob("*.yaml"))

# The seed's recipe for YOLOX-L on nuScenes (fine-tuning from the official COCO checkpoint).
SEED_RECIPE = {
    "model": "yolox_l", "num_classes": 7, "pretrained": "weights/detectors/yolox_l.pth", "allow_scratch": False,
    "input_size": [896, 1600], "multiscale_range": 5, "batch_size": 24, "workers": 12,
    "freeze_epochs": 15, "unfreeze_epochs": 15, "warmup_epochs": 1, "basic_lr_per_img": 0.0005 / 64,
    "min_lr_ratio": 0.05, "weight_decay": 0.0005, "momentum": 0.9, "no_aug_epochs": 2, "ema": True, "amp": True,
    "eval_interval": 5, "mosaic_prob": 0.7, "mixup_prob": 0.4, "hsv_prob": 0.5, "flip_prob": 0.5, "degrees": 5.0,
    "translate": 0.1, "shear": 2.0, "mosaic_scale": [0.5, 1.5], "mixup_scale": [0.5, 1.5],
    "max_train_images": 0, "max_iters_per_epoch": 0, "max_val_images": 0,
}
# What each preset is for: the target a user runs with it.
TARGETS = {"nuscenes.yaml": "all", "nuscenes_mini.yaml": "all"}


def layers(name: str) -> list[Path]:
    """The config files of a preset, in Snakemake's order: config.yaml, what the preset
    overlays (its first line `# overlays: presets/X.yaml`), the preset."""
    path = ROOT / "presets" / name
    first = path.read_text().splitlines()[0]
    m = re.match(r"# overlays: (\S+)", first)
    return [ROOT / "config.yaml", *([ROOT / m.group(1)] if m else []), path]


def merged(name: str) -> dict:
    def update(base: dict, new: dict) -> dict:
        for k, v in new.items():
            base[k] = update(base.get(k, {}), v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
        return base

    out: dict = {}
    for path in layers(name):
        out = update(out, yaml.safe_load(path.read_text()) or {})
    return out


def real_dataset_stand_in(workdir: Path, cfg: dict) -> Path:
    """What must exist before a real run's DAG can be planned: the dataroot and the
    pretrained checkpoint (both downloaded by the user; empty stand-ins here)."""
    (workdir / "nuscenes").mkdir()
    pretrained = workdir / cfg["detector"]["pretrained"]
    pretrained.parent.mkdir(parents=True, exist_ok=True)
    pretrained.write_bytes(b"")
    return write_config(workdir, {"dataset": {"dataroot": str(workdir / "nuscenes")}})


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_and_its_target_dry_runs(tmp_path, name):
    cfg = merged(name)
    files = [str(p) for p in layers(name)]
    if not cfg["dataset"]["synthetic"]:
        files.append(str(real_dataset_stand_in(tmp_path, cfg)))
    else:
        (tmp_path / "weights").symlink_to(ROOT / "weights")  # the demo's committed checkpoint
    proc = snakemake(tmp_path, "--configfile", *files, "--dry-run", TARGETS.get(name, "compare_idsw"), check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Job stats:" in proc.stdout, proc.stdout[-2000:]


def test_the_nuscenes_preset_is_the_seeds_recipe_key_by_key():
    detector = merged("nuscenes.yaml")["detector"]
    for key, value in SEED_RECIPE.items():
        assert detector[key] == pytest.approx(value) if isinstance(value, float) else detector[key] == value, key
    from nuscmot.detector.config import DetectorConfig

    assert set(detector) == {f.name for f in DetectorConfig.__dataclass_fields__.values()}  # every key set
    assert len(merged("nuscenes.yaml")["trackssm"]["seeds"]) >= 5


def test_the_real_run_plans_the_full_recipe(tmp_path):
    """On the real preset: 150 test scenes are nuScenes' business; here, that the planned
    DAG trains once, tracks every run, and writes beside (not over) the demo's results."""
    cfg = merged("nuscenes.yaml")
    override = real_dataset_stand_in(tmp_path, cfg)
    files = [str(p) for p in layers("nuscenes.yaml")] + [str(override)]
    jobs = planned_jobs(tmp_path, "all", "--configfile", *files)
    assert jobs["train"] == 1 and jobs["train_trackssm"] == len(cfg["trackssm"]["seeds"])
    assert cfg["results"] == "results/nuscenes"  # its own folder, beside the demo's


def test_the_default_console_is_one_line_a_job(tmp_path):
    """The default profile (quiet rules): no job block with inputs and params, no JSON."""
    cfg = yaml.safe_load((ROOT / "tests" / "configs" / "tiny.yaml").read_text())
    write_config(tmp_path, cfg)
    quiet = snakemake(tmp_path, "--workflow-profile", str(ROOT / "profiles" / "default"), "--dry-run", "all")
    loud = snakemake(tmp_path, "--workflow-profile", str(ROOT / "profiles" / "verbose"), "--dry-run", "all")
    assert "nuscmot/" not in quiet.stdout + quiet.stderr and '{"' not in quiet.stdout + quiet.stderr
    assert "nuscmot/stages/" in loud.stdout + loud.stderr and len(loud.stdout) > 10 * len(quiet.stdout)
