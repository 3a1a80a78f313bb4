# Data: the synthetic nuScenes-format set (embedded default) and nuScenes -> COCO / MOT; or
# (dataset.kind: mot) TrackSSM's trajectories from the GT of a MOTChallenge-layout folder,
# whose test and tuning sequences the other rules read in place.


if NUSCENES and config["dataset"]["synthetic"]:
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


if NUSCENES:

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


# mot data: TrackSSM trains on the training seqmap's GT and validates on the tuning seqmap's
if MOT and MOT.train:

    rule mot_trajectories:
        input:
            mot_dir=MOT.root,
            gt=MOT.gt_files(MOT.train + MOT.tune),
            train_seqmap=OUT.seqmap_train,
            val_seqmap=OUT.seqmap_tune,
            test_seqmap=OUT.seqmap,
            code=code("mot_trajectories"),
        output:
            traj_train=OUT.traj_train,
            traj_val=OUT.traj_val,
        log:
            f"{OUT.logs}/mot_trajectories.log",
        benchmark:
            f"{OUT.benchmarks}/mot_trajectories.tsv"
        conda:
            "../../envs/data.yaml"
        params:
            cfg=canonical_json({}),
        shell:
            ANNOUNCE
            + "python -m nuscmot.stages.mot_trajectories --params {params.cfg:q} --mot-dir {input.mot_dir:q}"
            " --train-seqmap {input.train_seqmap:q} --val-seqmap {input.val_seqmap:q}"
            " --test-seqmap {input.test_seqmap:q} --traj-train {output.traj_train:q}"
            " --traj-val {output.traj_val:q} > {log:q} 2>&1"
