# Detector: two-phase YOLOX fine-tuning, COCO evaluation, CAM_FRONT inference.
# Resumable training state lives in OUT.detector_state/<fingerprint>/ (not a declared
# output), so Snakemake's incomplete-output cleanup never deletes it, and a new config
# starts beside the old state, never over it (move a folder away to force a fresh run).
# `train` runs one DDP process per GPU of `resources.gpu` (torchrun when > 1):
# set it in a profile (set-resources: train: gpu: 4) or with --set-resources train:gpu=4.


rule train:
    input:
        coco_train=OUT.coco_train,
        coco_val=OUT.coco_val,
        dataroot=DATAROOT,
        pretrained=pretrained_input(),
        code=code("train"),
    output:
        best=OUT.best_ckpt,
        latest=OUT.latest_ckpt,
        train_log=OUT.train_log,
        config=OUT.train_config,
    log:
        f"{OUT.logs}/train.log",
    benchmark:
        f"{OUT.benchmarks}/train.tsv"
    conda:
        "../../envs/detector.yaml"
    resources:
        gpu=1,
    params:
        cfg=slice_json("detector"),
        state=OUT.detector_state,
        runs=OUT.detector_runs,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.train --params {params.cfg:q} --train-json {input.coco_train:q}"
        " --val-json {input.coco_val:q} --image-root {input.dataroot:q}"
        " --state-dir {params.state:q} --runs-dir {params.runs:q}"
        " --best {output.best:q} --latest {output.latest:q}"
        " --train-log {output.train_log:q} --config-out {output.config:q}"
        " --nproc {resources.gpu} > {log:q} 2>&1"


rule evaluate_detector:
    input:
        weights=OUT.best_ckpt,
        coco_val=OUT.coco_val,
        coco_test=OUT.coco_test,
        dataroot=DATAROOT,
        train_log=OUT.train_log,
        code=code("evaluate_detector"),
    output:
        json=OUT.detector_metrics_json,
        md=OUT.detector_metrics_md,
        plots=report(
            directory(f"{R}/detector/plots"),
            patterns=["{name}.png"],
            caption="../report/detector_plots.rst",
            category="2. Detector",
        ),
    log:
        f"{OUT.logs}/evaluate_detector.log",
    benchmark:
        f"{OUT.benchmarks}/evaluate_detector.tsv"
    conda:
        "../../envs/detector.yaml"
    resources:
        gpu=1,
    params:
        cfg=slice_json("evaluate_detector"),
        recall_conf=config["infer"]["conf_threshold"],  # recall tables at the tracking's threshold
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.evaluate_detector --params {params.cfg:q} --weights {input.weights:q}"
        " --val-json {input.coco_val:q} --test-json {input.coco_test:q}"
        " --image-root {input.dataroot:q} --out-json {output.json:q} --out-md {output.md:q}"
        " --recall-conf {params.recall_conf} --train-log {input.train_log:q} --plots-dir {output.plots:q}"
        " > {log:q} 2>&1"


rule infer:
    input:
        weights=source_weights,
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        dataroot=DATAROOT,
        code=code("infer"),
    output:
        dets=directory(OUT.detections_dir),
        timing=OUT.infer_timing,
    log:
        f"{OUT.logs}/infer_{{source}}.log",
    benchmark:
        f"{OUT.benchmarks}/infer_{{source}}.tsv"
    wildcard_constraints:
        source=run_regex(sources_of("checkpoint", tracked=False)),
    conda:
        "../../envs/detector.yaml"
    resources:
        gpu=1,
    params:
        cfg=slice_json("infer"),
        source=source_json,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.infer --params {params.cfg:q} --weights {input.weights:q}"
        " --mot-dir {input.mot_dir:q} --seqmap {input.seqmap:q} --image-root {input.dataroot:q}"
        " --source {params.source:q} --out-dir {output.dets:q} --timing {output.timing:q} > {log:q} 2>&1"


use rule infer as infer_tune with:
    input:
        weights=source_weights,
        mot_dir=OUT.mot_tune,
        seqmap=OUT.seqmap_tune,
        dataroot=DATAROOT,
        code=code("infer"),
    output:
        dets=directory(OUT.detections_tune),
        timing=f"{R}/tune/infer_timing_{{source}}.json",
    log:
        f"{OUT.logs}/infer_tune_{{source}}.log",
    benchmark:
        f"{OUT.benchmarks}/infer_tune_{{source}}.tsv"
