# nuscmot: nuScenes cameras -> COCO -> YOLOX -> Kalman | TrackSSM | iou -> IDSW verdict.
# (motion models: the registry, src/nuscmot/tracking/models.py)
#
# Targets:  synth · convert · train · evaluate_detector · detections · trackssm_models ·
#           sweep_tracking · track · evaluate_tracking · compare_idsw ·
#           finetune_effect · gallery · report_summary · all · gap_ablation · pretrain_detector
# (dataset.kind: mot tracks a MOTChallenge-layout folder in place: no synth, convert, detector
# or nuScenes-image targets; `all` is the sweep, tracking, evaluation and comparison)
#
# Every job is a thin shell over one `python -m nuscmot.stages.<rule>` entry point (a variant
# rule runs its base rule's stage) and gets exactly its own config slice through `params:`
# (see workflow/rules/common.smk), so a config change reruns only the stale steps.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/config.smk"
include: "workflow/rules/common.smk"
include: "workflow/rules/report.smk"


refuse_nuscenes_targets(
    sys.argv[1:]
)  # (targets are not known to the Snakefile otherwise)


rule all:
    default_target: True
    input:
        OUT.detector_metrics_json if NUSCENES else [],
        OUT.compare_csv,
        REPORT_OUT.summary if NUSCENES else [],
        expand(REPORT_OUT.switches, source=SOURCE_RUNS),
        OUT.sweep_best if use_tuned() else [],
        OUT.finetune_md if FINETUNE_SOURCES else [],
        expand(OUT.trackssm_heldout, seed=SEEDS) if "trackssm" in TRACKERS else [],


rule detections:
    input:
        [detections_dir(s) for s in SOURCE_RUNS],
        [tune_detections_dir(s) for s in SOURCES],


rule trackssm_models:
    input:
        expand(OUT.trackssm_model, seed=SEEDS),
        expand(OUT.trackssm_heldout, seed=SEEDS),


rule track:
    input:
        per_run(OUT.tracking_dir),


rule evaluate_tracking:
    input:
        per_run(OUT.metrics_csv),


include: "workflow/rules/data.smk"


if NUSCENES:  # the detector trains and runs on nuScenes images

    include: "workflow/rules/detector.smk"


include: "workflow/rules/tracking.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/sweep.smk"


if "pretrain" in config:  # the demo detector's own pretraining (config.yaml has it)

    include: "workflow/rules/pretrain.smk"

    rule pretrain_detector:
        input:
            PRE_OUT.best,
            PRE_OUT.sha256,
