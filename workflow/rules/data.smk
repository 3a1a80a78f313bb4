# Data: the synthetic nuScenes-format set (embedded default) and nuScenes -> COCO / MOT.


if config["dataset"]["synthetic"]:
    from nuscmot.synthetic.config import check_convertible, synth_config

    try:  # what convert needs of the world (the generator alone accepts less)
        check_convertible(synth_config(config["synth"]), where="synth")
    except InputError as exc:
        config_error(f": {exc}")
    # `synth` replaces its output folder: never one it did not make (a real nuScenes dataroot
    # with dataset.synthetic left true would be deleted when synth reruns)
    if (
        Path(DATAROOT).exists()
        and not (Path(DATAROOT) / VERSION / "splits.json").is_file()
    ):
        config_error(
            f" at dataset.synthetic: {DATAROOT} exists but holds no synthetic set"
            f" ({VERSION}/splits.json, written by synth, is absent); synth would replace it:"
            " for a real dataset set dataset.synthetic: false"
        )

    rule synth:
        input:
            code=code("synth"),
        output:
            directory(DATAROOT),
        log:
            f"{OUT.logs}/synth.log",
        benchmark:
            f"{OUT.benchmarks}/synth.tsv"
        conda:
            "../../envs/data.yaml"
        params:
            cfg=slice_json("synth", version=VERSION),
        shell:
            ANNOUNCE
            + "python -m nuscmot.stages.synth --params {params.cfg:q} --dataroot {output:q} > {log:q} 2>&1"


rule convert:
    input:
        dataroot=DATAROOT,
        code=code("convert"),
    output:
        coco_train=OUT.coco_train,
        coco_val=OUT.coco_val,
        coco_test=OUT.coco_test,
        mot_dir=directory(OUT.mot_dir),
        seqmap=OUT.seqmap,
        mot_tune=directory(OUT.mot_tune),
        seqmap_tune=OUT.seqmap_tune,
        traj_train=OUT.traj_train,
        traj_val=OUT.traj_val,
        splits=OUT.splits,
    log:
        f"{OUT.logs}/convert.log",
    benchmark:
        f"{OUT.benchmarks}/convert.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        cfg=slice_json("convert", version=VERSION),
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.convert --params {params.cfg:q} --dataroot {input.dataroot:q}"
        " --coco-train {output.coco_train:q} --coco-val {output.coco_val:q}"
        " --coco-test {output.coco_test:q} --mot-dir {output.mot_dir:q}"
        " --seqmap {output.seqmap:q} --traj-train {output.traj_train:q}"
        " --traj-val {output.traj_val:q} --splits {output.splits:q}"
        " --tune-mot-dir {output.mot_tune:q} --tune-seqmap {output.seqmap_tune:q} > {log:q} 2>&1"
