# Evaluation: motmetrics per tracker, then the IDSW comparison and its analysis.


rule evaluate_tracker:
    input:
        results=OUT.tracking_dir,
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        code=code("evaluate_tracker"),
    output:
        csv=OUT.metrics_csv,
        json=OUT.metrics_json,
    log:
        f"{OUT.logs}/evaluate_tracking_{{source}}_{{tracker}}.log",
    benchmark:
        f"{OUT.benchmarks}/evaluate_tracking_{{source}}_{{tracker}}.tsv"
    wildcard_constraints:
        source=run_regex(SOURCE_RUNS),
        tracker=run_regex(TRACKER_RUNS),
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=slice_json("evaluation"),
        motion=model_name,
        classes=canonical_json(class_names()),
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.evaluate_tracker --params {params.cfg:q} --tracker {params.motion}"
        " --results {input.results:q} --mot-dir {input.mot_dir:q} --seqmap {input.seqmap:q}"
        " --classes {params.classes:q} --out-csv {output.csv:q} --out-json {output.json:q} > {log:q} 2>&1"


use rule evaluate_tracker as evaluate_tracker_ego with:
    input:
        results=OUT.tracking_ego_dir,
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        code=code("evaluate_tracker"),
    output:
        csv=OUT.metrics_ego_csv,
        json=OUT.metrics_ego_json,
    log:
        f"{OUT.logs}/ego_flip/evaluate_tracking_{{source}}_{{tracker}}.log",
    benchmark:
        f"{OUT.benchmarks}/ego_flip/evaluate_tracking_{{source}}_{{tracker}}.tsv"
    wildcard_constraints:
        source=run_regex(REF_SOURCE_RUNS),
        tracker=run_regex(REF_TRACKER_RUNS),


rule compare_idsw:
    input:
        unpack(ego_inputs),
        metrics=per_run(OUT.metrics_json),
        results=per_run(OUT.tracking_dir),
        dets=sorted({detections_dir(s) for s in SOURCE_RUNS}),
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        code=code("compare_idsw"),
    output:
        csv=report(
            OUT.compare_csv,
            caption="../report/compare.rst",
            category="1. Verdict",
            subcategory="2. Tables",
        ),
        md=report(
            OUT.compare_md,
            caption="../report/compare.rst",
            category="1. Verdict",
            subcategory="2. Tables",
        ),
        paradox=OUT.paradox_json,
        plots=report(
            directory(OUT.plots_dir),
            patterns=["{name}.png"],
            caption="../report/plots.rst",
            category="Plots",
        ),
    log:
        f"{OUT.logs}/compare_idsw.log",
    benchmark:
        f"{OUT.benchmarks}/compare_idsw.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=slice_json("compare", evaluation=config["evaluation"]),
        runs=runs_json(SOURCE_RUNS, TRACKER_RUNS),
        ego=ego_args,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.compare_idsw --params {params.cfg:q} --runs {params.runs:q}"
        " --mot-dir {input.mot_dir:q} --seqmap {input.seqmap:q} --out-csv {output.csv:q}"
        " --out-md {output.md:q} --out-json {output.paradox:q} --plots-dir {output.plots:q}"
        " {params.ego}"
        " > {log:q} 2>&1 && grep -E '^## |Verdict' {output.md:q}"


rule finetune_effect:
    input:
        metrics=finetune_runs(OUT.metrics_json),
        results=finetune_runs(OUT.tracking_dir),
        dets=[detections_dir(s) for s in FINETUNE_SOURCES],
        coco_test=OUT.coco_test,
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        code=code("finetune_effect"),
    output:
        md=report(
            OUT.finetune_md,
            caption="../report/finetune_effect.rst",
            category="3. Fine-tuning effect",
        ),
        json=OUT.finetune_json,
        plots=report(
            directory(OUT.finetune_plots),
            patterns=["{name}.png"],
            caption="../report/finetune_effect.rst",
            category="3. Fine-tuning effect",
        ),
    log:
        f"{OUT.logs}/finetune_effect.log",
    benchmark:
        f"{OUT.benchmarks}/finetune_effect.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=slice_json(
            "finetune_effect",
            compare=config.get("compare", {}),
            evaluation=config["evaluation"],
        ),
        runs=runs_json(FINETUNE_SOURCES, TRACKER_RUNS),
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.finetune_effect --params {params.cfg:q} --runs {params.runs:q}"
        " --coco-test {input.coco_test:q} --mot-dir {input.mot_dir:q} --seqmap {input.seqmap:q}"
        " --out-md {output.md:q} --out-json {output.json:q} --plots-dir {output.plots:q}"
        " > {log:q} 2>&1 && cat {output.md:q}"
