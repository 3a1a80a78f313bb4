"""The stage layer: one module per Snakemake rule, named after the rule and run as
``python -m nuscmot.stages.<rule>``.

A stage parses its command line and its ``--params`` (the rule's config slice, as JSON) into
the frozen config dataclasses it declares in ``SLICES`` (config key -> dataclass: the one home
of each key's default, type and range; ``tests/test_config_schema.py`` checks the JSON schema
against them), then calls one function of the package below. Variant rules (``use rule X as
Y``, the ``pretrain_*`` rules) run their base rule's stage. A rule's code inputs are the files
of its stage's import closure (``code()`` in ``workflow/rules/common.smk``).

=====================  ================================================================
stage                  calls
=====================  ================================================================
synth                  :func:`nuscmot.synthetic.generate`
convert                :func:`nuscmot.data.convert.convert`
mot_trajectories       :func:`nuscmot.data.mot_trajectories.write_mot_trajectories`
train                  :func:`nuscmot.detector.trainer.train`
evaluate_detector      :func:`nuscmot.detector.evaluate.evaluate_checkpoint`
infer                  :func:`nuscmot.detector.infer.infer`
check_detections       :func:`nuscmot.tracking.check_detections.check_detections`
gt_detections          :func:`nuscmot.tracking.gt_detections.write_gt_detections`
train_trackssm         :func:`nuscmot.tracking.trackssm.fit.train_trackssm`
run_tracker            :func:`nuscmot.tracking.run.run_tracker`
evaluate_tracker       :func:`nuscmot.evaluation.tracker_metrics.write_tracker_metrics`
compare_idsw           :func:`nuscmot.evaluation.verdict.compare_idsw`
finetune_effect        :func:`nuscmot.evaluation.finetune_effect.finetune_effect`
sweep_block            :func:`nuscmot.sweep.block.sweep_block`
sweep_tracking         :func:`nuscmot.sweep.tuning.summarise_sweep`
gap_ablation           :func:`nuscmot.sweep.gap_report.report_gap_ablation`
=====================  ================================================================
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["stage_names", "config_slices"]


def stage_names() -> list[str]:
    """Every stage module's name (= its rule's name), sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def config_slices() -> dict[str, type]:
    """Config key (dotted) -> the dataclass that owns it, over every stage's ``SLICES``."""
    out: dict[str, type] = {}
    for name in stage_names():
        for key, cls in importlib.import_module(f"{__name__}.{name}").SLICES.items():
            if out.setdefault(key, cls) is not cls:
                raise TypeError(f"stages disagree on the class of config slice {key}")
    return out
