# Pretraining of the demo's detector: YOLOX trained from scratch on a separate synthetic
# world (its own seed and scene names, so no scene, instance, sample or image token is shared
# with the demo's dataset), exported in YOLOX's checkpoint format. The demo fine-tunes the
# committed result (detector.pretrained, checked against detector.pretrained_sha256); this
# target only rebuilds it:
#
#     snakemake pretrain_detector      # hours on 2 CPU cores, minutes on a GPU
#
# Training state is kept in pretrain.state (committed between long stretches), so a run cut
# off mid-way continues from its last epoch on any machine; the world is regenerated
# byte-identically from its seed. Nothing in `all` depends on these rules.

if config["dataset"]["synthetic"] and "pretrain" in config:
    from nuscmot.synthetic.config import (
        check_convertible,
        check_disjoint_worlds,
        synth_config,
    )

    try:  # the pretraining world must share no scene or token with the demo's
        pretrain_world = synth_config(config["pretrain"]["synth"])
        check_convertible(pretrain_world, where="pretrain.synth")
        check_disjoint_worlds(synth_config(config["synth"]), pretrain_world)
    except InputError as exc:
        config_error(f": {exc}")


PRE = SimpleNamespace(
    dataroot=config["pretrain"]["dataroot"],
    version=config["pretrain"]["version"],
    out=config["pretrain"]["out"],
    state=config["pretrain"]["state"],
)
PRE_OUT = SimpleNamespace(
    coco_train=f"{PRE.out}/coco/train.json",
    coco_val=f"{PRE.out}/coco/val.json",
    coco_test=f"{PRE.out}/coco/test_front.json",
    mot_dir=f"{PRE.out}/mot/test",
    seqmap=f"{PRE.out}/mot/seqmaps/test.txt",
    traj_train=f"{PRE.out}/trajectories/train.parquet",
    traj_val=f"{PRE.out}/trajectories/val.parquet",
    splits=f"{PRE.out}/splits.json",
    best=f"{PRE.out}/detector/weights/best_ckpt.pth",
    latest=f"{PRE.out}/detector/weights/latest_ckpt.pth",
    train_log=f"{PRE.out}/detector/train_log.txt",
    config=f"{PRE.out}/detector/weights/config.json",
    runs=f"{PRE.out}/detector/runs",
    sha256=f"{PRE.out}/detector/weights/best_ckpt.sha256",
)


rule pretrain_synth:
    input:
        code=code("synth"),
    output:
        directory(PRE.dataroot),
    log:
        f"{OUT.logs}/pretrain_synth.log",
    benchmark:
        f"{OUT.benchmarks}/pretrain_synth.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        cfg=slice_json("pretrain", "synth", version=PRE.version),
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.synth --params {params.cfg:q} --dataroot {output:q} > {log:q} 2>&1"


rule pretrain_convert:
    input:
        dataroot=PRE.dataroot,
        code=code("convert"),
    output:
        coco_train=PRE_OUT.coco_train,
        coco_val=PRE_OUT.coco_val,
        coco_test=PRE_OUT.coco_test,
        mot_dir=directory(PRE_OUT.mot_dir),
        seqmap=PRE_OUT.seqmap,
        traj_train=PRE_OUT.traj_train,
        traj_val=PRE_OUT.traj_val,
        splits=PRE_OUT.splits,
    log:
        f"{OUT.logs}/pretrain_convert.log",
    benchmark:
        f"{OUT.benchmarks}/pretrain_convert.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        cfg=slice_json("pretrain", "convert", version=PRE.version),
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.convert --params {params.cfg:q} --dataroot {input.dataroot:q}"
        " --coco-train {output.coco_train:q} --coco-val {output.coco_val:q}"
        " --coco-test {output.coco_test:q} --mot-dir {output.mot_dir:q}"
        " --seqmap {output.seqmap:q} --traj-train {output.traj_train:q}"
        " --traj-val {output.traj_val:q} --splits {output.splits:q} > {log:q} 2>&1"


rule pretrain_train:
    input:
        coco_train=PRE_OUT.coco_train,
        coco_val=PRE_OUT.coco_val,
        dataroot=PRE.dataroot,
        code=code("train"),
    output:
        best=PRE_OUT.best,
        latest=PRE_OUT.latest,
        train_log=PRE_OUT.train_log,
        config=PRE_OUT.config,
        sha256=PRE_OUT.sha256,
    log:
        f"{OUT.logs}/pretrain_train.log",
    benchmark:
        f"{OUT.benchmarks}/pretrain_train.tsv"
    conda:
        "../../envs/detector.yaml"
    resources:
        gpu=1,
    params:
        cfg=slice_json("pretrain", "detector"),
        state=PRE.state,
        runs=PRE_OUT.runs,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.train --params {params.cfg:q} --train-json {input.coco_train:q}"
        " --val-json {input.coco_val:q} --image-root {input.dataroot:q}"
        " --state-dir {params.state:q} --runs-dir {params.runs:q}"
        " --best {output.best:q} --latest {output.latest:q}"
        " --train-log {output.train_log:q} --config-out {output.config:q}"
        " --nproc {resources.gpu} > {log:q} 2>&1"
        " && sha256sum {output.best:q} | cut -d' ' -f1 > {output.sha256:q}"
