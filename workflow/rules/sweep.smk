# Sweeps and ablations over the tracking stage:
#   snakemake sweep_tracking  on the tuning split (CAM_FRONT of the detector-val scenes, or
#                             dataset.mot.tune_seqmap; never a test sequence): association grid x each motion model's own keys, one
#                             block job per (detection source, motion model) evaluating all its
#                             cells in-process; summary, best cell per source and model
#                             (best.json, used by `run_tracker` when compare.use_tuned), IDSW heatmaps
#   snakemake gap_ablation    GT-derived detections at controlled drop rates/modes, tracking
#                             (once per gap_ablation.ego_compensation setting) and evaluation
#                             per level, curves vs drop rate

from nuscmot.sweep.plan import SweepPlan

SWEEP_OUT = SimpleNamespace(
    block=f"{R}/sweep/{{source}}/{{tracker}}.json",
    summary=f"{R}/sweep/summary.csv",
    best=OUT.sweep_best,
    heatmaps=f"{R}/sweep/heatmaps",
)
GAP_OUT = SimpleNamespace(
    detections=f"{R}/gap_ablation/{{gap_level}}/detections",
    tracking=f"{R}/gap_ablation/{{gap_level}}/{{ego}}/tracking/{{tracker}}",
    metrics_csv=f"{R}/gap_ablation/{{gap_level}}/{{ego}}/metrics/{{tracker}}.csv",
    metrics_json=f"{R}/gap_ablation/{{gap_level}}/{{ego}}/metrics/{{tracker}}.json",
    curves_csv=f"{R}/gap_ablation/curves.csv",
    curves_md=f"{R}/gap_ablation/curves.md",
    curves_png=f"{R}/gap_ablation/curves.png",
)

# Grid cells (Paramspace, one folder level per key~value) and ablation levels of this config.
try:
    SWEEP = SweepPlan(config)
except InputError as exc:
    config_error(f": {exc}")
if use_tuned() and SWEEP.sweep is None:
    config_error(
        ": compare [use_tuned]: the tuned settings need a sweep.grid to tune on"
        " (add one, or set compare.use_tuned: false)"
    )


# ------------------------------------------------------------------ sweep on the tuning split


rule sweep_block:
    input:
        unpack(tune_inputs),
        code=model_code("sweep_block"),
    output:
        SWEEP_OUT.block,
    log:
        f"{OUT.logs}/sweep/{{source}}_{{tracker}}.log",
    benchmark:
        f"{OUT.benchmarks}/sweep/{{source}}_{{tracker}}.tsv"
    wildcard_constraints:
        source=run_regex(SOURCES),
        tracker=run_regex(TRACKER_RUNS),
    conda:
        "../../envs/tracking.yaml"
    params:
        cfg=lambda wildcards: SWEEP.block_params(model_name(wildcards)),
        motion=model_name,
        model=lambda wildcards, input: (
            f"--model {input.model}" if "model" in input.keys() else ""
        ),
        splits=splits_arg,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.sweep_block --params {params.cfg:q} --tracker {params.motion}"
        " --run {wildcards.tracker} --source {wildcards.source} --dets-dir {input.dets:q}"
        " --mot-dir {input.mot_dir:q} --seqmap {input.seqmap:q} --test-seqmap {input.test_seqmap:q}"
        " {params.splits} {params.model} --out {output:q} > {log:q} 2>&1"


rule pick_tuned:
    input:
        block=SWEEP_OUT.block,
        code=model_code("pick_tuned"),
    output:
        OUT.tuned,
    log:
        f"{OUT.logs}/sweep/tuned_{{source}}_{{tracker}}.log",
    benchmark:
        f"{OUT.benchmarks}/sweep/tuned_{{source}}_{{tracker}}.tsv"
    wildcard_constraints:
        source=run_regex(SOURCES),
        tracker=run_regex(TRACKER_RUNS),
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=pick_params,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.pick_tuned --params {params.cfg:q} --block {input.block:q}"
        " --out {output:q} > {log:q} 2>&1"


rule sweep_tracking:
    input:
        blocks=per_run(SWEEP_OUT.block, sources=SOURCES),
        code=code("sweep_tracking"),
    output:
        csv=report(
            SWEEP_OUT.summary, caption="../report/sweep_summary.rst", category="Sweep"
        ),
        best=SWEEP_OUT.best,
        heatmaps=report(
            directory(SWEEP_OUT.heatmaps),
            patterns=["{name}.png"],
            caption="../report/sweep_heatmaps.rst",
            category="Sweep",
        ),
    log:
        f"{OUT.logs}/sweep_tracking.log",
    benchmark:
        f"{OUT.benchmarks}/sweep_tracking.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=slice_json(
            "sweep",
            trackers=TRACKERS,
            **({"notes": EGO_NOTES} if EGO_NOTES else {}),
        ),
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.sweep_tracking --params {params.cfg:q} --blocks {input.blocks:q}"
        " --out-csv {output.csv:q} --out-best {output.best:q}"
        " --heatmaps-dir {output.heatmaps:q} > {log:q} 2>&1"


# ------------------------------------------------------------------ gap ablation


use rule gt_detections as gap_detections with:
    output:
        directory(GAP_OUT.detections),
    log:
        f"{OUT.logs}/gap_ablation/{{gap_level}}/gt_detections.log",
    benchmark:
        f"{OUT.benchmarks}/gap_ablation/{{gap_level}}/gt_detections.tsv"
    wildcard_constraints:
        gap_level=SWEEP.level_regex,
    params:
        cfg=lambda wildcards: SWEEP.level_params(wildcards.gap_level),


use rule run_tracker as gap_track with:
    input:
        unpack(gap_tracker_inputs),
        code=track_code,
    output:
        directory(GAP_OUT.tracking),
    log:
        f"{OUT.logs}/gap_ablation/{{gap_level}}/{{ego}}/track_{{tracker}}.log",
    benchmark:
        f"{OUT.benchmarks}/gap_ablation/{{gap_level}}/{{ego}}/track_{{tracker}}.tsv"
    wildcard_constraints:
        gap_level=SWEEP.level_regex,
        ego=SWEEP.ego_regex,
        tracker="[a-z0-9_]+",
    params:
        cfg=lambda wildcards: SWEEP.gap_track_params(wildcards.tracker, wildcards.ego),
        motion=model_name,
        model=lambda wc, input: (
            f"--model {input.model}" if "model" in input.keys() else ""
        ),
        tuned="",


use rule evaluate_tracker as gap_evaluate with:
    input:
        results=GAP_OUT.tracking,
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        code=code("evaluate_tracker"),
    output:
        csv=GAP_OUT.metrics_csv,
        json=GAP_OUT.metrics_json,
    log:
        f"{OUT.logs}/gap_ablation/{{gap_level}}/{{ego}}/evaluate_{{tracker}}.log",
    benchmark:
        f"{OUT.benchmarks}/gap_ablation/{{gap_level}}/{{ego}}/evaluate_{{tracker}}.tsv"
    wildcard_constraints:
        gap_level=SWEEP.level_regex,
        ego=SWEEP.ego_regex,
        tracker="[a-z0-9_]+",


rule gap_ablation:
    input:
        metrics=expand(
            GAP_OUT.metrics_json,
            gap_level=list(SWEEP.levels),
            ego=list(SWEEP.ego),
            tracker=TRACKERS,
        ),
        code=code("gap_ablation"),
    output:
        csv=report(
            GAP_OUT.curves_csv,
            caption="../report/sweep_gap_ablation.rst",
            category="Gap ablation",
        ),
        md=GAP_OUT.curves_md,
        png=report(
            GAP_OUT.curves_png,
            caption="../report/sweep_gap_ablation.rst",
            category="Gap ablation",
        ),
    log:
        f"{OUT.logs}/gap_ablation.log",
    benchmark:
        f"{OUT.benchmarks}/gap_ablation.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=slice_json(
            "gap_ablation",
            gt_detections={"seed": DRAWS[0]},
            trackers=TRACKERS,
        ),
    shell:
        ANNOUNCE + "python -m nuscmot.stages.gap_ablation --params {params.cfg:q}"
        " --metrics {input.metrics:q} --out-csv {output.csv:q} --out-md {output.md:q}"
        " --out-png {output.png:q} > {log:q} 2>&1 && cat {output.md:q}"
