# Paths (all below config["results"]) and per-rule config slices.

import dataclasses
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

R = config["results"]
DATAROOT = config["dataset"].get("dataroot", "")
VERSION = config["dataset"].get("version", "")
TRACKERS = config["tracking"]["trackers"]
SOURCES = config["tracking"]["sources"]  # (the schema's default when unset)
SRC = Path(workflow.basedir) / "src" / "nuscmot"

# the package is installed (make install); code inputs come from its import graph
from nuscmot.common.config import from_dict
from nuscmot.common.dataset import DatasetConfig, mot_layout
from nuscmot.common.errors import InputError
from nuscmot.common.imports import closure_files
from nuscmot.common.runs import parse_source_run, parse_tracker_run, run_regex
from nuscmot.common.runs import source_runs, tracker_runs
from nuscmot.common.sources import detection_sources
from nuscmot.evaluation.compare import CompareConfig
from nuscmot.sweep.plan import canonical_json, without_ego_axes
from nuscmot.evaluation.finetune_effect import FinetuneEffectConfig
from nuscmot.tracking.gt_detections import DegradeConfig
from nuscmot.tracking.models import foreign_modules, learned
from nuscmot.tracking.trackssm.train import TrainConfig as TrackSSMTrainConfig

# The data: nuScenes (convert lays it out below results/) or a MOTChallenge-layout folder
# read in place (dataset.kind: mot; its folder and seqmaps are checked now, before any job).
try:
    DATASET = from_dict(DatasetConfig, config["dataset"], where="dataset")
    MOT = mot_layout(DATASET) if DATASET.kind == "mot" else None
except InputError as exc:
    config_error(f": {exc}")
NUSCENES = MOT is None
_missing = [k for k in ("convert", "detector", "infer") if NUSCENES and k not in config]
if _missing:  # (as the schema words it)
    config_error(f" at <top level>: '{_missing[0]}' is a required property")
if NUSCENES and not (DATAROOT and VERSION):
    config_error(
        f" at dataset.{'version' if DATAROOT else 'dataroot'}: a nuscenes dataset needs"
        " dataroot and version (or set dataset.kind: mot)"
    )
POSES = NUSCENES or MOT.has_poses()  # convert writes every sequence's cam_pose.json
EGO_NOTES = (
    []
)  # what was skipped for want of poses (also recorded in the sweep's best.json)
if not POSES:  # no ego-motion compensation to sweep or ablate: said once, at load
    _config, EGO_NOTES = without_ego_axes(config)
    config.update(_config)
    for _note in EGO_NOTES:
        print(f"note: {_note}", file=sys.stderr)

try:  # slices that decide which jobs exist: read through their dataclasses (their defaults)
    COMPARE = from_dict(CompareConfig, config.get("compare"), where="compare")
    GT_DETECTIONS = from_dict(
        DegradeConfig, config.get("gt_detections"), where="gt_detections"
    )
    TRACKSSM = from_dict(TrackSSMTrainConfig, config.get("trackssm"), where="trackssm")
    DETECTIONS = detection_sources(config.get("detections"))  # name -> DetectionSource
    FINETUNE = from_dict(
        FinetuneEffectConfig, config.get("finetune_effect"), where="finetune_effect"
    )
except InputError as exc:
    config_error(f": {exc}")
_unknown = [s for s in SOURCES if s not in DETECTIONS]
if _unknown:
    config_error(
        f" at tracking.sources: {_unknown[0]!r} is not a source of the detections slice"
        f" ({', '.join(DETECTIONS)})"
    )


for _name in SOURCES:
    _src = DETECTIONS[_name]
    if MOT and _src.kind == "checkpoint":
        config_error(
            f" at detections.{_name}: a checkpoint source needs nuScenes images"
            " (dataset.kind: mot tracks files and gt sources)"
        )
    _path = _src.checkpoint if _src.kind == "checkpoint" else _src.dir
    if _src.kind != "gt" and _path != "train" and not Path(_path).exists():
        config_error(
            f" at detections.{_name}: {_path}: no such "
            f"{'file' if _src.kind == 'checkpoint' else 'folder'}"
        )


# targets that need nuScenes data (its images, convert's COCO sets, the trained detector)
NUSCENES_TARGETS = (
    "synth",
    "convert",
    "train",
    "evaluate_detector",
    "infer",
    "finetune_effect",
    "gallery",
    "report_summary",
    "pretrain_detector",
)


def refuse_nuscenes_targets(args):
    """A target asked for by name (a word of the command line) that a mot dataset cannot
    build: one line, exit 1 (Snakemake's own error would be a missing input of convert's).
    """
    asked = [a for a in args if a in NUSCENES_TARGETS]
    if MOT and asked:
        config_error(
            f" at dataset.kind: target {asked[0]} needs nuScenes data (dataset.kind: mot"
            " builds sweep_tracking, detections, trackssm_models, track, evaluate_tracking,"
            " compare_idsw, gap_ablation, all)"
        )


def sources_of(kind, tracked=True):
    """The sources of one kind (checkpoint | gt | files): those tracking.sources tracks, or
    (tracked=False: what a rule can build, e.g. `snakemake results/detections/<name>`) all.
    """
    names = SOURCES if tracked else list(DETECTIONS)
    return [s for s in names if DETECTIONS[s].kind == kind]


# Runs: TrackSSM once per training seed, GT-derived detections once per draw
# (nuscmot.common.runs names them); the first seed and draw are the reference runs
# (ego-compensation table, gap ablation, tuning detections of the gt source).
SEEDS = list(TRACKSSM.seeds)
DRAWS = list(GT_DETECTIONS.seeds)
LEARNED = learned()  # motion models trained per seed (nuscmot.tracking.models)
TRACKER_RUNS = tracker_runs(TRACKERS, SEEDS, LEARNED)
SOURCE_RUNS = source_runs(SOURCES, DRAWS, drawn=sources_of("gt"))
REF_TRACKER_RUNS = tracker_runs(TRACKERS, SEEDS[:1], LEARNED)
# the fine-tune effect: baseline vs fine-tuned source, when both are tracked (and not drawn)
FINETUNE_SOURCES = [FINETUNE.baseline, FINETUNE.finetuned]
if not all(s in SOURCES and DETECTIONS[s].kind != "gt" for s in FINETUNE_SOURCES):
    FINETUNE_SOURCES = []
REF_SOURCE_RUNS = source_runs(SOURCES, DRAWS[:1], drawn=sources_of("gt"))

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
    # detections of every source run (a checkpoint's, one GT-derived draw, validated files)
    # and of every source on the tuning split (GT-derived: the first draw)
    detections_dir=f"{R}/detections/{{source}}",
    infer_timing=f"{R}/detector/infer_timing_{{source}}.json",
    detections_tune=f"{R}/tune/detections/{{source}}",
    sweep_best=f"{R}/sweep/best.json",
    tuned=f"{R}/sweep/tuned/{{source}}/{{tracker}}.json",  # one per source and tracker run
    # tracking
    trackssm_model=f"{R}/trackssm/seed{{seed}}/model.pt",
    learned_model=f"{R}/{{model}}/seed{{seed}}/model.pt",  # a learned model's, per seed
    trackssm_heldout=f"{R}/trackssm/seed{{seed}}/heldout.json",
    trackssm_training=f"{R}/trackssm/seed{{seed}}/training.json",
    trackssm_runs=f"{R}/trackssm/seed{{seed}}/runs",
    tracking_dir=f"{R}/tracking/{{source}}/{{tracker}}",
    # evaluation
    tracking_ego_dir=f"{R}/ego_flip/tracking/{{source}}/{{tracker}}",
    metrics_ego_csv=f"{R}/ego_flip/metrics/{{source}}/{{tracker}}.csv",
    metrics_ego_json=f"{R}/ego_flip/metrics/{{source}}/{{tracker}}.json",
    metrics_csv=f"{R}/metrics/{{source}}/{{tracker}}.csv",
    metrics_json=f"{R}/metrics/{{source}}/{{tracker}}.json",
    finetune_md=f"{R}/finetune_effect.md",
    finetune_json=f"{R}/finetune_effect.json",
    finetune_plots=f"{R}/finetune_effect_plots",
    compare_csv=f"{R}/compare_idsw.csv",
    compare_md=f"{R}/compare_idsw.md",
    paradox_json=f"{R}/idsw_paradox_analysis.json",
    plots_dir=f"{R}/plots",
    logs=f"{R}/logs",
    benchmarks=f"{R}/benchmarks",
)
if MOT:  # the configured folder and seqmaps in place of convert's outputs
    OUT.mot_dir = OUT.mot_tune = MOT.root
    OUT.seqmap = DATASET.mot.test_seqmap
    OUT.seqmap_tune = DATASET.mot.tune_seqmap
    OUT.seqmap_train = DATASET.mot.train_seqmap
    if "trackssm" in TRACKERS and not MOT.train:
        config_error(
            " at tracking.trackers: trackssm needs dataset.mot.train_seqmap"
            " (the sequences whose GT trains it)"
        )


# One console line per job, the first thing its shell does (the default profile sets
# `quiet: [rules]`, so Snakemake's own job blocks with their inputs and params stay out of
# sight; profiles/verbose brings them back): its log, named after the rule and wildcards;
# and when it fails, the end of that log (its one-line error).
ANNOUNCE = (
    "echo 'started, follow it with: tail -f {log}' >&2; "
    "trap 'echo \"failed, the end of {log}:\" >&2; tail -n 15 {log} >&2' ERR; "
)


def slice_json(*keys, drop=(), **extra):
    """The config slice at config[k1][k2]... (less the keys in ``drop``), plus ``extra``, as
    canonical JSON."""
    value = config
    for key in keys:
        value = value.get(key, {})
    value = {k: v for k, v in value.items() if k not in drop}
    if extra:
        value = {"cfg": value, **extra}
    return canonical_json(value)


def seeded_slice_json(key, seed):
    """A seeded slice (trackssm, gt_detections) as one job gets it: its own ``seed``, not the
    list of ``seeds``, so adding a seed adds jobs and leaves the others' params alone.
    """
    value = {k: v for k, v in (config.get(key) or {}).items() if k != "seeds"}
    return canonical_json({**value, "seed": int(seed)})


def code(stage, prune=()):
    """The source files of stage ``python -m nuscmot.stages.<stage>``: every nuscmot module it
    can import (nuscmot.common.imports walks the imports with ast), listed as inputs so that
    editing a module reruns exactly the jobs that run it. ``prune``: modules (and what only
    they import) the job never runs.
    """
    files = closure_files(
        f"nuscmot.stages.{stage}", tuple(f"nuscmot.{p}" for p in prune), SRC.parent
    )
    # relative to the working directory: a moved or re-cloned checkout keeps its inputs
    return [
        local(os.path.relpath(f)) for f in files
    ]  # never through a storage provider


def model_code(stage):
    """``stage``'s code for a job of one tracker run, pruned of the modules only the other
    motion models run (their registry entries' ``modules``): editing TrackSSM never reruns a
    Kalman job.
    """

    def files(wildcards):
        model, _ = parse_tracker_run(wildcards.tracker)
        return code(stage, prune=foreign_modules(model))

    return files


track_code = model_code("run_tracker")


def pretrained_input():
    """The pretrained checkpoint as an input of `train` (replacing it retrains). A configured
    but absent file stops the workflow when it loads, before any job (or state) is touched;
    an empty path is a scratch run (the trainer demands detector.allow_scratch)."""
    path = config["detector"]["pretrained"] if NUSCENES else ""
    if not path:
        return []
    if not Path(path).is_file():
        config_error(
            f" at detector.pretrained: {path}: no such file (a missing pretrained checkpoint"
            " never falls back to a scratch run; set it to '' with allow_scratch: true for one)"
        )
    return [path]


def detections_dir(source_run):
    """Tracking input of a source run: ``results/detections/<source run>/``."""
    return OUT.detections_dir.format(source=source_run)


def tune_detections_dir(source):
    """A source's detections of the tuning split (GT-derived: the first draw)."""
    return OUT.detections_tune.format(source=source)


def source_weights(wildcards):
    """The checkpoint a checkpoint source runs: the train rule's (infer.checkpoint: best or
    latest) or a file, which must exist when the workflow loads."""
    path = DETECTIONS[wildcards.source].checkpoint
    if path == "train":
        return (
            OUT.best_ckpt
            if config["infer"]["checkpoint"] == "best"
            else OUT.latest_ckpt
        )
    return path


def source_json(wildcards):
    """The source's entry of the detections slice, as ``infer --source`` reads it."""
    entry = dataclasses.asdict(DETECTIONS[wildcards.source])
    # pattern: a files source's key (a checkpoint's command line stays as it was)
    entry.pop("pattern")
    return canonical_json(entry)


def source_files(wildcards):
    """A files source's detection files: inputs one by one, so an edited file reruns it."""
    source = DETECTIONS[wildcards.source]
    files = Path(source.dir).glob(source.pattern.replace("{seq}", "*"))
    return [str(p) for p in sorted(files)]


def source_pattern(wildcards):
    """``--pattern`` of a files source whose files are not ``<seq>.txt``."""
    pattern = DETECTIONS[wildcards.source].pattern
    return "" if pattern == "{seq}.txt" else f"--pattern '{pattern}'"


def class_names():
    """The dataset's classes, the names of the class column's values 1..N: nuScenes'
    converted classes, or dataset.mot.classes."""
    return list(DATASET.mot.classes) if MOT else list(config["convert"]["classes"])


def check_params():
    """check_detections' params: the score transform and the dataset's classes (the class
    column holds 1..N)."""
    classes = class_names()
    value = {
        "score_transform": config["tracking"].get("score_transform"),
        "num_classes": len(classes),
        **({"classes": classes} if MOT else {}),
    }
    return canonical_json(value)


def model_name(wildcards):
    """The motion model of the job's tracker run (``trackssm-s1`` -> ``trackssm``)."""
    return parse_tracker_run(wildcards.tracker)[0]


def model_input(tracker_run):
    """``{"model": checkpoint}`` for a learned model's run (its seed's checkpoint), else nothing."""
    model, seed = parse_tracker_run(tracker_run)
    if model not in LEARNED:
        return {}
    return {"model": OUT.learned_model.format(model=model, seed=seed)}


def per_run(pattern, sources=None, trackers=None):
    """``pattern`` for every (source run, tracker run), source-major."""
    return [
        expand(pattern, source=s, tracker=t)[0]
        for s in (sources or SOURCE_RUNS)
        for t in (trackers or TRACKER_RUNS)
    ]


def ego_ablation():
    return COMPARE.ego_ablation  # off for data without camera poses (without_ego_axes)


def use_tuned():
    return COMPARE.use_tuned


def run_entry(source_run, tracker_run, metrics, results):
    source, draw = parse_source_run(source_run)
    model, seed = parse_tracker_run(tracker_run)
    return {
        "source": source,
        "draw": draw,
        "tracker": model,
        "seed": seed,
        "metrics": metrics.format(source=source_run, tracker=tracker_run),
        "results": results.format(source=source_run, tracker=tracker_run),
        "dets": detections_dir(source_run),
    }


def runs_json(sources, trackers, ego=False):
    """The ``--runs`` of compare_idsw and finetune_effect (``ego``: the runs with
    ego-compensation flipped, compare_idsw's ``--ego-runs``) as JSON: every (source run,
    tracker run) with its source, draw, tracker, seed and files."""
    paths = (
        (OUT.metrics_ego_json, OUT.tracking_ego_dir)
        if ego
        else (OUT.metrics_json, OUT.tracking_dir)
    )
    return canonical_json([run_entry(s, t, *paths) for s in sources for t in trackers])


def ego_inputs(wildcards):
    """compare_idsw's extra inputs for the ego-motion compensation on/off table."""
    if not ego_ablation():
        return {}
    refs = dict(sources=REF_SOURCE_RUNS, trackers=REF_TRACKER_RUNS)
    return {
        "ego_metrics": per_run(OUT.metrics_ego_json, **refs),
        "ego_results": per_run(OUT.tracking_ego_dir, **refs),
    }


def ego_args(wildcards, input):
    if "ego_metrics" not in input.keys():
        return ""
    return f"--ego-runs '{runs_json(REF_SOURCE_RUNS, REF_TRACKER_RUNS, ego=True)}'"


def tracker_inputs(wildcards):
    """`run_tracker`'s inputs: the source run's detections, the test sequences, the run's
    TrackSSM model, and its tuned settings when they are used."""
    inputs = {
        "dets": detections_dir(wildcards.source),
        "mot_dir": OUT.mot_dir,
        "seqmap": OUT.seqmap,
        **model_input(wildcards.tracker),
    }
    if use_tuned():
        source = parse_source_run(wildcards.source)[0]
        inputs["tuned"] = OUT.tuned.format(source=source, tracker=wildcards.tracker)
    return inputs


def gap_tracker_inputs(wildcards):
    """A gap-ablation tracking job's inputs: the level's GT-derived detections and the motion
    model's reference run (TrackSSM: the first seed's model)."""
    (reference,) = tracker_runs([wildcards.tracker], SEEDS[:1], LEARNED)
    return {
        "dets": GAP_OUT.detections.format(gap_level=wildcards.gap_level),
        "mot_dir": OUT.mot_dir,
        "seqmap": OUT.seqmap,
        **model_input(reference),
    }


def tuned_args(wildcards, input):
    """``run_tracker``'s options for the tuned settings (this run's pick on the tuning split)."""
    if "tuned" not in input.keys():
        return ""
    source = parse_source_run(wildcards.source)[0]
    return f"--tuned {input.tuned} --source {source}"


def motion_params(model):
    """`run_tracker`'s params: the association, the model's motion slice and (when configured)
    the score transform (the same as nuscmot.sweep.plan.SweepPlan.cell_params)."""
    extra = {}
    if "score_transform" in config["tracking"]:
        extra["score_transform"] = config["tracking"]["score_transform"]
    return slice_json(
        "tracking",
        "association",
        motion=config["tracking"].get("motion", {}).get(model, {}),
        **extra,
    )


def tracker_params(wildcards):
    return motion_params(model_name(wildcards))


def tune_inputs(wildcards):
    """A block's inputs: the tuning split, its detections, the run's model, the test seqmap
    (no tuning sequence may be on it) and, on nuScenes data, splits.json (all detector-val).
    """
    return {
        "dets": tune_detections_dir(wildcards.source),
        "mot_dir": OUT.mot_tune,
        "seqmap": OUT.seqmap_tune,
        "test_seqmap": OUT.seqmap,
        **({"splits": OUT.splits} if NUSCENES else {}),
        **model_input(wildcards.tracker),
    }


def splits_arg(wildcards, input):
    return f"--splits {input.splits}" if "splits" in input.keys() else ""


def pick_params(wildcards):
    """pick_tuned's params: the objective and this model's grid alone (another model's grid
    never re-picks it)."""
    model = model_name(wildcards)
    sweep = config.get("sweep") or {}
    cfg = {k: v for k, v in sweep.items() if k not in ("motion", "heatmap")}
    cfg["motion"] = {model: (sweep.get("motion") or {}).get(model, {})}
    return json.dumps({"cfg": cfg, "trackers": [model]}, sort_keys=True)


def finetune_runs(pattern):
    """``pattern`` for every tracker run on the fine-tune effect's two sources."""
    return per_run(pattern, sources=FINETUNE_SOURCES) if FINETUNE_SOURCES else []
