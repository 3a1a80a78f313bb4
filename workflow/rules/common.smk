# Paths (all below config["results"]) and per-rule config slices.

import json
from pathlib import Path
from types import SimpleNamespace

R = config["results"]
DATAROOT = config["dataset"]["dataroot"]
VERSION = config["dataset"]["version"]
TRACKERS = config["tracking"]["trackers"]
SOURCES = config["tracking"]["sources"]  # (the schema's default when unset)
SRC = Path(workflow.basedir) / "src" / "nuscmot"

# the package is installed (make install); code inputs come from its import graph
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.imports import closure_files
from nuscmot.evaluation.compare import CompareConfig

try:  # the compare slice decides which jobs exist: read it through its dataclass (its defaults)
    COMPARE = from_dict(CompareConfig, config.get("compare"), where="compare")
except InputError as exc:
    config_error(f": {exc}")

OUT = SimpleNamespace(
    # convert
    coco_train=f"{R}/coco/train.json",
    coco_val=f"{R}/coco/val.json",
    coco_test=f"{R}/coco/test_front.json",
    mot_dir=f"{R}/mot/test",
    seqmap=f"{R}/mot/seqmaps/test.txt",
    mot_tune=f"{R}/mot/tune",  # tuning split: test camera of the detector-val scenes
    seqmap_tune=f"{R}/mot/seqmaps/tune.txt",
    traj_train=f"{R}/trajectories/train.parquet",
    traj_val=f"{R}/trajectories/val.parquet",
    splits=f"{R}/splits.json",
    # detector
    best_ckpt=f"{R}/detector/weights/best_ckpt.pth",
    latest_ckpt=f"{R}/detector/weights/latest_ckpt.pth",
    train_log=f"{R}/detector/train_log.txt",
    train_config=f"{R}/detector/weights/config.json",
    detector_state=f"{R}/detector/state",
    detector_runs=f"{R}/detector/runs",
    detector_metrics_json=f"{R}/detector/metrics.json",
    detector_metrics_md=f"{R}/detector/metrics.md",
    detections_dir=f"{R}/detections",
    infer_timing=f"{R}/detector/infer_timing.json",
    # GT-derived detections
    gt_detections_dir=f"{R}/detections_gt",
    # tuning split: detections of both sources
    detections_tune=f"{R}/tune/detections",
    sweep_best=f"{R}/sweep/best.json",
    gt_detections_tune=f"{R}/tune/detections_gt",
    # tracking
    trackssm_model=f"{R}/trackssm/model.pt",
    trackssm_heldout=f"{R}/trackssm/heldout.json",
    trackssm_runs=f"{R}/trackssm/runs",
    tracking_dir=f"{R}/tracking/{{source}}/{{tracker}}",
    # evaluation
    tracking_ego_dir=f"{R}/ego_flip/tracking/{{source}}/{{tracker}}",
    metrics_ego_csv=f"{R}/ego_flip/metrics/{{source}}/{{tracker}}.csv",
    metrics_ego_json=f"{R}/ego_flip/metrics/{{source}}/{{tracker}}.json",
    metrics_csv=f"{R}/metrics/{{source}}/{{tracker}}.csv",
    metrics_json=f"{R}/metrics/{{source}}/{{tracker}}.json",
    compare_csv=f"{R}/compare_idsw.csv",
    compare_md=f"{R}/compare_idsw.md",
    paradox_json=f"{R}/idsw_paradox_analysis.json",
    plots_dir=f"{R}/plots",
    logs=f"{R}/logs",
    benchmarks=f"{R}/benchmarks",
)


def slice_json(*keys, **extra):
    """The config slice at config[k1][k2]..., plus `extra`, as canonical JSON."""
    value = config
    for key in keys:
        value = value.get(key, {})
    if extra:
        value = {"cfg": value, **extra}
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def code(stage, prune=()):
    """The source files of stage ``python -m nuscmot.stages.<stage>``: every nuscmot module it
    can import (nuscmot.common.imports walks the imports with ast), listed as inputs so that
    editing a module reruns exactly the jobs that run it. ``prune``: modules (and what only
    they import) the job never runs.
    """
    files = closure_files(
        f"nuscmot.stages.{stage}", tuple(f"nuscmot.{p}" for p in prune), SRC.parent
    )
    return [local(str(f)) for f in files]  # never through a storage provider


def track_code(wildcards):
    """`run_tracker`'s code: a Kalman job never runs the TrackSSM model, which the stage
    imports lazily (through the checkpoint loader and the motion adapter)."""
    if wildcards.tracker == "trackssm":
        return code("run_tracker")
    return code(
        "run_tracker",
        prune=("tracking.trackssm.checkpoint", "tracking.trackssm.motion"),
    )


def pretrained_input():
    """The pretrained checkpoint as an input of `train` (replacing it retrains), when present;
    a configured but absent file is the trainer's one-line error (or allow_scratch)."""
    path = config["detector"]["pretrained"]
    return [path] if path and Path(path).is_file() else []


def detections_dir(source):
    """Tracking input of a detection source: the detector's detections, or GT-derived ones."""
    return OUT.gt_detections_dir if source == "gt" else OUT.detections_dir


def per_source(pattern):
    """``pattern`` for every (source, tracker), source-major: the order compare_idsw reads."""
    return [expand(pattern, source=s, tracker=t)[0] for s in SOURCES for t in TRACKERS]


def ego_ablation():
    return COMPARE.ego_ablation


def ego_inputs(wildcards):
    """compare_idsw's extra inputs for the ego-motion compensation on/off table."""
    if not ego_ablation():
        return {}
    return {
        "ego_metrics": per_source(OUT.metrics_ego_json),
        "ego_results": per_source(OUT.tracking_ego_dir),
    }


def ego_args(wildcards, input):
    if "ego_metrics" not in input.keys():
        return ""
    return f"--ego-metrics {input.ego_metrics} --ego-results {input.ego_results}"


def use_tuned():
    return COMPARE.use_tuned


def tracker_inputs(wildcards, dets=None):
    """`run_tracker`'s inputs: detections (of the job's source, or ``dets``), the test sequences,
    the TrackSSM model for that tracker, and best.json when the tuned settings are used.
    """
    source = getattr(wildcards, "source", SOURCES[0])
    inputs = {
        "dets": dets or detections_dir(source),
        "mot_dir": OUT.mot_dir,
        "seqmap": OUT.seqmap,
    }
    if wildcards.tracker == "trackssm":
        inputs["model"] = OUT.trackssm_model
    if use_tuned() and hasattr(wildcards, "source"):
        inputs["tuned"] = OUT.sweep_best
    return inputs


def gap_tracker_inputs(wildcards):
    """A gap-ablation tracking job's inputs: the level's GT-derived detections."""
    return tracker_inputs(
        wildcards, dets=GAP_OUT.detections.format(gap_level=wildcards.gap_level)
    )


def tuned_args(wildcards, input):
    """``run_tracker``'s options for the tuned settings (best.json of the sweep on the tuning split)."""
    if "tuned" not in input.keys():
        return ""
    return f"--tuned {input.tuned} --source {wildcards.source}"


def tracker_params(wildcards):
    """`run_tracker`'s params: the association, the tracker's motion slice and (when configured)
    the score transform (the same as nuscmot.sweep.plan.SweepPlan.cell_params)."""
    extra = {}
    if "score_transform" in config["tracking"]:
        extra["score_transform"] = config["tracking"]["score_transform"]
    return slice_json(
        "tracking",
        "association",
        motion=config["tracking"].get("motion", {}).get(wildcards.tracker, {}),
        **extra,
    )


def tune_inputs(wildcards):
    """A block's inputs: the tuning split (never a test scene) and its detections."""
    dets = OUT.gt_detections_tune if wildcards.source == "gt" else OUT.detections_tune
    inputs = {
        "dets": dets,
        "mot_dir": OUT.mot_tune,
        "seqmap": OUT.seqmap_tune,
        "splits": OUT.splits,
    }
    if wildcards.tracker == "trackssm":
        inputs["model"] = OUT.trackssm_model
    return inputs
