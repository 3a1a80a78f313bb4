# Tracking: GT-derived detections (tests/ablations), TrackSSM training, one tracking
# job per motion model behind the same association.


rule gt_detections:
    input:
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        code=code("gt_detections"),
    output:
        directory(f"{R}/detections/{{source}}-d{{draw}}"),
    log:
        f"{OUT.logs}/gt_detections_{{source}}-d{{draw}}.log",
    benchmark:
        f"{OUT.benchmarks}/gt_detections_{{source}}-d{{draw}}.tsv"
    wildcard_constraints:
        source=run_regex(sources_of("gt", tracked=False)),
        draw="[0-9]+",
    conda:
        "../../envs/tracking.yaml"
    params:
        cfg=lambda wildcards: seeded_slice_json("gt_detections", wildcards.draw),
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.gt_detections --params {params.cfg:q} --mot-dir {input.mot_dir:q}"
        " --seqmap {input.seqmap:q} --out-dir {output:q} > {log:q} 2>&1"


use rule gt_detections as gt_detections_tune with:
    input:
        mot_dir=OUT.mot_tune,
        seqmap=OUT.seqmap_tune,
        code=code("gt_detections"),
    output:
        directory(OUT.detections_tune),
    log:
        f"{OUT.logs}/gt_detections_tune_{{source}}.log",
    benchmark:
        f"{OUT.benchmarks}/gt_detections_tune_{{source}}.tsv"
    wildcard_constraints:
        source=run_regex(sources_of("gt", tracked=False)),
    params:
        cfg=seeded_slice_json("gt_detections", DRAWS[0]),


rule check_detections:
    input:
        files=source_files,
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        code=code("check_detections"),
    output:
        directory(OUT.detections_dir),
    log:
        f"{OUT.logs}/check_detections_{{source}}.log",
    benchmark:
        f"{OUT.benchmarks}/check_detections_{{source}}.tsv"
    wildcard_constraints:
        source=run_regex(sources_of("files", tracked=False)),
    conda:
        "../../envs/tracking.yaml"
    params:
        cfg=check_params(),
        src=lambda wildcards: DETECTIONS[wildcards.source].dir,
        pattern=source_pattern,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.check_detections --params {params.cfg:q} --src-dir {params.src:q}"
        " {params.pattern} --mot-dir {input.mot_dir:q} --seqmap {input.seqmap:q} --out-dir {output:q} > {log:q} 2>&1"


use rule check_detections as check_detections_tune with:
    input:
        files=source_files,
        mot_dir=OUT.mot_tune,
        seqmap=OUT.seqmap_tune,
        code=code("check_detections"),
    output:
        directory(OUT.detections_tune),
    log:
        f"{OUT.logs}/check_detections_tune_{{source}}.log",
    benchmark:
        f"{OUT.benchmarks}/check_detections_tune_{{source}}.tsv"


rule train_trackssm:
    input:
        traj_train=OUT.traj_train,
        traj_val=OUT.traj_val,
        code=code("train_trackssm"),
    output:
        model=OUT.trackssm_model,
        training=OUT.trackssm_training,
    log:
        f"{OUT.logs}/train_trackssm_seed{{seed}}.log",
    benchmark:
        f"{OUT.benchmarks}/train_trackssm_seed{{seed}}.tsv"
    wildcard_constraints:
        seed="[0-9]+",
    conda:
        "../../envs/tracking.yaml"
    params:
        cfg=lambda wildcards: seeded_slice_json("trackssm", wildcards.seed),
        runs=lambda wildcards: OUT.trackssm_runs.format(seed=wildcards.seed),
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.train_trackssm --params {params.cfg:q} --train {input.traj_train:q}"
        " --val {input.traj_val:q} --runs-dir {params.runs:q} --model {output.model:q}"
        " --training {output.training:q} > {log:q} 2>&1"


rule heldout_trackssm:
    input:
        model=OUT.trackssm_model,
        traj_val=OUT.traj_val,
        code=code("heldout_trackssm"),
    output:
        OUT.trackssm_heldout,
    log:
        f"{OUT.logs}/heldout_trackssm_seed{{seed}}.log",
    benchmark:
        f"{OUT.benchmarks}/heldout_trackssm_seed{{seed}}.tsv"
    wildcard_constraints:
        seed="[0-9]+",
    conda:
        "../../envs/tracking.yaml"
    params:
        cfg=slice_json("tracking", "motion", "kalman"),
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.heldout_trackssm --params {params.cfg:q} --model {input.model:q}"
        " --val {input.traj_val:q} --out {output:q} > {log:q} 2>&1"


rule run_tracker:
    input:
        unpack(tracker_inputs),
        code=track_code,
    output:
        directory(OUT.tracking_dir),
    log:
        f"{OUT.logs}/track_{{source}}_{{tracker}}.log",
    benchmark:
        f"{OUT.benchmarks}/track_{{source}}_{{tracker}}.tsv"
    wildcard_constraints:
        source=run_regex(SOURCE_RUNS),
        tracker=run_regex(TRACKER_RUNS),
    conda:
        "../../envs/tracking.yaml"
    params:
        cfg=tracker_params,
        motion=model_name,
        model=lambda wc, input: (
            f"--model {input.model}" if "model" in input.keys() else ""
        ),
        tuned=tuned_args,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.run_tracker --params {params.cfg:q} --tracker {params.motion}"
        " --dets-dir {input.dets:q} --mot-dir {input.mot_dir:q} --seqmap {input.seqmap:q}"
        " {params.model} {params.tuned} --out-dir {output:q} > {log:q} 2>&1"


use rule run_tracker as run_tracker_ego with:
    output:
        directory(OUT.tracking_ego_dir),
    log:
        f"{OUT.logs}/ego_flip/track_{{source}}_{{tracker}}.log",
    benchmark:
        f"{OUT.benchmarks}/ego_flip/track_{{source}}_{{tracker}}.tsv"
    wildcard_constraints:
        source=run_regex(REF_SOURCE_RUNS),
        tracker=run_regex(REF_TRACKER_RUNS),
    params:
        cfg=tracker_params,
        motion=model_name,
        model=lambda wc, input: (
            f"--model {input.model}" if "model" in input.keys() else ""
        ),
        tuned=lambda wc, input: tuned_args(wc, input) + " --ego flip",
