"""Bad input, one table: every case breaks one input, runs the real entry point as the rule
does (``python -m nuscmot.<stage> --params <slice JSON> ...`` in a subprocess, or
``snakemake --dry-run`` for the config), and checks what a user sees:

- the exit status (2 for an entry point, 1 for Snakemake);
- stderr's last non-empty line is the single error line, ``error: <file>[:<line>| [<key>]]:
  <problem>`` (Snakemake: ``<config>: invalid config at <key>: <problem>``), matching the
  case's pattern, and the only line that starts with ``error:``;
- no Python traceback anywhere on stderr;
- none of the step's outputs exists afterwards, and no temp file of an atomic write.

The README's Troubleshooting table lists these messages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from .harness import leftovers, params_json, run_entry, run_snakemake, stderr_lines

pytestmark = [pytest.mark.slow]

NUM_CLASSES = 7


# ---- the unbroken inputs ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def good(tmp_path_factory, tiny_converted, tiny_config):
    """Valid inputs every case starts from: the tiny conversion, a detector checkpoint
    (YOLOX-nano with the tiny config's classes and input size, untrained), GT-derived
    detections and tracking results."""
    from nuscmot.common.mot import read_mot, read_seqmap, write_mot
    from nuscmot.detector.checkpoint import build_model, export
    from nuscmot.detector.config import DetectorConfig, model_config

    root = tmp_path_factory.mktemp("good")
    det_cfg = tiny_config["detector"]

    def checkpoint(path: Path, num_classes: int) -> Path:
        mc = model_config(DetectorConfig(model=det_cfg["model"], num_classes=num_classes,
                                         input_size=tuple(det_cfg["input_size"]), multiscale_range=0))
        export(path, build_model(mc).state_dict(), mc, epoch=0)
        return path

    weights = checkpoint(root / "best_ckpt.pth", NUM_CLASSES)
    names = read_seqmap(tiny_converted.seqmap)
    synth = tiny_config["synth"]
    trackssm_at = trackssm_checkpoint(root, 2.0, (synth["image_width"], synth["image_height"]))
    dets, results = root / "detections", root / "tracking"
    for name in names:  # GT boxes as detections (score 1) and as results (GT ids)
        gt = read_mot(tiny_converted.mot_dir / name / "gt" / "gt.txt", "gt")
        det = np.hstack([gt[:, :8], -np.ones((len(gt), 2))])
        det[:, 1], det[:, 6] = -1, 1.0
        write_mot(dets / f"{name}.txt", det, "det")
        res = det.copy()
        res[:, 1] = gt[:, 1]
        write_mot(results / f"{name}.txt", res, "result")
    return dict(conv=tiny_converted, cfg=tiny_config, weights=weights, checkpoint=checkpoint, names=names,
                dets=dets, results=results, trackssm_at=trackssm_at)


def trackssm_checkpoint(folder: Path, rate: float, size: tuple[int, int]) -> Path:
    """An (untrained) TrackSSM checkpoint of the tiny config's size, trained on ``size`` at ``rate``."""
    from nuscmot.tracking.trackssm.checkpoint import TrainedOn, save_checkpoint
    from nuscmot.tracking.trackssm.model import ModelConfig, TrackSSM

    path = folder / f"trackssm_{rate:g}hz_{size[0]}x{size[1]}.pt"
    save_checkpoint(path, TrackSSM(ModelConfig(d_model=16, encoder_layers=1, decoder_layers=2, d_state=8)),
                    TrainedOn(rate, (size,)))
    return path


@dataclass
class Run:
    """One case's scratch: ``tmp`` for broken copies, ``out`` for the step's outputs."""

    good: dict
    tmp: Path

    @property
    def out(self) -> Path:
        return self.tmp / "out"

    @property
    def conv(self):
        return self.good["conv"]

    @property
    def cfg(self) -> dict:
        return self.good["cfg"]

    # broken copies
    def dataroot_copy(self, images: bool = False) -> Path:
        """A copy of the tiny dataroot (tables copied; images copied or linked)."""
        src, dst = self.conv.dataroot, self.tmp / "dataroot"
        dst.mkdir()
        for item in src.iterdir():
            if item.name == "samples" and images:
                shutil.copytree(item, dst / item.name)
            elif item.is_dir() and item.name == self.conv.version:
                shutil.copytree(item, dst / item.name)
            else:
                (dst / item.name).symlink_to(item)
        return dst

    def mot_copy(self) -> Path:
        dst = self.tmp / "mot"
        shutil.copytree(self.conv.mot_dir, dst)
        return dst

    def coco_copy(self, split: str, edit: Callable[[dict], None]) -> Path:
        data = json.loads(getattr(self.conv, f"coco_{split}").read_text())
        edit(data)
        path = self.tmp / f"{split}.json"
        path.write_text(json.dumps(data))
        return path

    def dir_copy(self, key: str) -> Path:
        dst = self.tmp / key
        shutil.copytree(self.good[key], dst)
        return dst

    # entry-point command lines (as in workflow/rules/*.smk) and their outputs
    def convert(self, dataroot: Path | None = None, version: str | None = None, cfg: dict | None = None):
        o = self.out
        outs = dict(coco_train=o / "coco/train.json", coco_val=o / "coco/val.json", coco_test=o / "coco/test_front.json",
                    mot_dir=o / "mot/test", seqmap=o / "mot/seqmaps/test.txt", traj_train=o / "trajectories/train.parquet",
                    traj_val=o / "trajectories/val.parquet", splits=o / "splits.json")
        params = {"cfg": cfg or self.cfg["convert"], "version": version or self.conv.version}
        argv = ["--params", params_json(params), "--dataroot", dataroot or self.conv.dataroot]
        for k, v in outs.items():
            argv += [f"--{k.replace('_', '-')}", v]
        return "convert", argv, list(outs.values())

    def train(self, train_json: Path | None = None, image_root: Path | None = None, **changes):
        o = self.out
        cfg = {**self.cfg["detector"], "freeze_epochs": 0, "unfreeze_epochs": 1, "max_iters_per_epoch": 2,
               "max_val_images": 8, **changes}
        outs = dict(best=o / "weights/best_ckpt.pth", latest=o / "weights/latest_ckpt.pth",
                    train_log=o / "train_log.txt", config_out=o / "weights/config.json")
        argv = ["--params", params_json(cfg), "--train-json", train_json or self.conv.coco_train,
                "--val-json", self.conv.coco_val, "--image-root", image_root or self.conv.dataroot,
                "--state-dir", o / "state", "--runs-dir", o / "runs"]
        for k, v in outs.items():
            argv += [f"--{k.replace('_', '-')}", v]
        return "train", argv, list(outs.values())

    def evaluate_detector(self, weights: Path | None = None, val_json: Path | None = None,
                          image_root: Path | None = None):
        o = self.out
        outs = [o / "metrics.json", o / "metrics.md"]
        argv = ["--params", params_json(self.cfg["evaluate_detector"]), "--weights", weights or self.good["weights"],
                "--val-json", val_json or self.conv.coco_val, "--test-json", self.conv.coco_test,
                "--image-root", image_root or self.conv.dataroot, "--out-json", outs[0], "--out-md", outs[1]]
        return "evaluate_detector", argv, outs

    def infer(self, weights: Path | None = None, image_root: Path | None = None):
        o = self.out
        outs = [o / "detections", o / "infer_timing.json"]
        argv = ["--params", params_json(self.cfg["infer"]), "--weights", weights or self.good["weights"],
                "--mot-dir", self.conv.mot_dir, "--seqmap", self.conv.seqmap,
                "--image-root", image_root or self.conv.dataroot, "--out-dir", outs[0], "--timing", outs[1]]
        return "infer", argv, outs

    def track(self, dets: Path | None = None, tracker: str = "kalman", model: Path | None = None,
              mot_dir: Path | None = None, **association):
        out = self.out / "tracking" / tracker
        params = {"cfg": {**self.cfg["tracking"]["association"], **association}, "motion": self.cfg["tracking"]["motion"][tracker]}
        argv = ["--params", params_json(params), "--tracker", tracker, "--dets-dir", dets or self.good["dets"],
                "--mot-dir", mot_dir or self.conv.mot_dir, "--seqmap", self.conv.seqmap]
        if model is not None:
            argv += ["--model", model]
        return "run_tracker", [*argv, "--out-dir", out], [out]

    def evaluate_tracking(self, results: Path | None = None, mot_dir: Path | None = None):
        o = self.out
        outs = [o / "metrics/kalman.csv", o / "metrics/kalman.json"]
        argv = ["--params", params_json(self.cfg["evaluation"]), "--tracker", "kalman",
                "--results", results or self.good["results"], "--mot-dir", mot_dir or self.conv.mot_dir,
                "--seqmap", self.conv.seqmap, "--out-csv", outs[0], "--out-json", outs[1]]
        return "evaluate_tracker", argv, outs

    def gt_detections(self, mot_dir: Path | None = None, **changes):
        out = self.out / "detections_gt"
        argv = ["--params", params_json({**self.cfg["gt_detections"], **changes}),
                "--mot-dir", mot_dir or self.conv.mot_dir, "--seqmap", self.conv.seqmap, "--out-dir", out]
        return "gt_detections", argv, [out]


# ---- ways to break things --------------------------------------------------------------------
def first_seq(run: Run) -> str:
    return run.good["names"][0]


def corrupt_bytes(path: Path) -> None:
    """Replace a file by bytes no decoder accepts (same size)."""
    size = path.stat().st_size
    path.unlink()  # (may be a link into the shared dataroot)
    path.write_bytes(os.urandom(size))


def sequence_images(run: Run, dataroot: Path) -> list[Path]:
    from nuscmot.common.mot import read_image_list

    return [dataroot / p for p in read_image_list(run.conv.mot_dir / first_seq(run) / "img1.txt")]


def coco_images(run: Run, split: str, dataroot: Path) -> list[Path]:
    data = json.loads(getattr(run.conv, f"coco_{split}").read_text())
    return [dataroot / im["file_name"] for im in data["images"]]


VALID_ROW = {  # one valid MOT line per kind (frame, id and class filled in per line)
    "gt": "{f},1,10.00,20.00,30.00,40.00,1,1,4",
    "det": "{f},-1,10.00,20.00,30.00,40.00,0.9000,1,-1,-1",
    "result": "{f},1,10.00,20.00,30.00,40.00,0.9000,1,-1,-1",
}


def write_bad_mot(path: Path, kind: str, lineno: int, how: Callable[[str], str]) -> None:
    """A MOT file whose line ``lineno`` is broken by ``how`` (valid lines before and after)."""
    lines = [VALID_ROW[kind].format(f=f) for f in range(1, lineno + 2)]
    lines[lineno - 1] = how(lines[lineno - 1])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def drop_column(line: str) -> str:
    return ",".join(line.split(",")[:-1])


def non_numeric(line: str) -> str:
    fields = line.split(",")
    fields[2] = "abc"
    return ",".join(fields)


# each: (run) -> (stage, argv, outputs)
def missing_dataroot(run):
    return run.convert(dataroot=run.tmp / "no-such-dataroot")


def wrong_version(run):
    return run.convert(version="v1.0-wrong")


def corrupt_table(run):
    root = run.dataroot_copy()
    (root / run.conv.version / "sample.json").write_text('[{"token": "abc", "timestamp": ')
    return run.convert(dataroot=root)


def truncated_table(run):
    root = run.dataroot_copy()
    path = root / run.conv.version / "sample_annotation.json"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return run.convert(dataroot=root)


def missing_table(run):
    root = run.dataroot_copy()
    (root / run.conv.version / "ego_pose.json").unlink()
    return run.convert(dataroot=root)


def missing_image(run):
    root = run.dataroot_copy(images=True)
    sequence_images(run, root)[3].unlink()
    return run.convert(dataroot=root)


def unknown_category(run):
    cfg = json.loads(json.dumps(run.cfg["convert"]))
    cfg["category_map"]["car"] = ["vehicle.carriage"]
    return run.convert(cfg=cfg)


def unknown_class(run):
    cfg = json.loads(json.dumps(run.cfg["convert"]))
    cfg["category_map"]["tram"] = ["vehicle.tram"]
    return run.convert(cfg=cfg)


def corrupt_jpeg_infer(run):
    root = run.dataroot_copy(images=True)
    corrupt_bytes(sequence_images(run, root)[2])
    return run.infer(image_root=root)


def corrupt_jpeg_evaluate_detector(run):
    root = run.dataroot_copy(images=True)
    corrupt_bytes(coco_images(run, "val", root)[5])
    return run.evaluate_detector(image_root=root)


def corrupt_jpeg_train(workers: int):
    def case(run):
        root = run.dataroot_copy(images=True)
        for path in coco_images(run, "train", root):  # every one: whichever the first batch reads
            corrupt_bytes(path)
        return run.train(image_root=root, workers=workers)

    return case


def truncate(path: Path, size: int = 3000) -> None:
    """Cut a JPEG short (libjpeg only warns, and cv2.imread returns a grey-filled frame)."""
    data = path.read_bytes()
    path.unlink()  # (may be a link into the shared dataroot)
    path.write_bytes(data[:size])


def truncated_jpeg(stage: str):
    def case(run):
        root = run.dataroot_copy(images=True)
        if stage == "train":
            for path in coco_images(run, "train", root):  # every one: whichever the first batch reads
                truncate(path)
            return run.train(image_root=root, workers=0)
        if stage == "evaluate_detector":
            truncate(coco_images(run, "val", root)[5])
            return run.evaluate_detector(image_root=root)
        truncate(sequence_images(run, root)[2])
        return run.convert(dataroot=root) if stage == "convert" else run.infer(image_root=root)

    return case


def negative_box(split: str):
    def case(run):
        def edit(data):
            data["annotations"][4]["bbox"][2] = -12.5

        path = run.coco_copy(split, edit)
        return run.train(train_json=path) if split == "train" else run.evaluate_detector(val_json=path)

    return case


def checkpoint_classes(stage: str):
    def case(run):
        weights = run.good["checkpoint"](run.tmp / "ckpt_3_classes.pth", 3)
        return getattr(run, stage)(weights=weights)

    return case


def checkpoint_random_bytes(stage: str):
    def case(run):
        weights = run.tmp / "random.pth"
        weights.write_bytes(os.urandom(4096))
        return getattr(run, stage)(weights=weights)

    return case


def checkpoint_without_keys(stage: str):
    def case(run):
        import torch

        weights = run.tmp / "other.pth"
        torch.save({"state_dict": {"w": torch.zeros(3)}, "epoch": 3}, weights)
        return getattr(run, stage)(weights=weights)

    return case


def yolox_checkpoint_without_model_config(run):
    """An official-YOLOX-style file (``{"model": state_dict}``) given as trained weights."""
    import torch

    weights = run.tmp / "yolox_nano.pth"
    torch.save({"model": torch.load(run.good["weights"], weights_only=True)["model"]}, weights)
    return run.infer(weights=weights)


def trackssm_random_bytes(run):
    model = run.tmp / "model.pt"
    model.write_bytes(os.urandom(4096))
    return run.track(tracker="trackssm", model=model)


def missing_cam_pose(run):
    mot = run.mot_copy()
    (mot / first_seq(run) / "cam_pose.json").unlink()
    return run.track(mot_dir=mot, ego_compensation=True)


def trackssm_v1_checkpoint(run):
    """A checkpoint of the first format, which recorded no frame rate or image size."""
    import torch

    payload = torch.load(run.good["trackssm_at"], weights_only=True)
    payload["version"] = 1
    del payload["trained_on"]
    model = run.tmp / "model_v1.pt"
    torch.save(payload, model)
    return run.track(tracker="trackssm", model=model)


def seqinfo_frame_rate(rate: str, tracker: str):
    def case(run):
        mot = run.mot_copy()
        ini = mot / first_seq(run) / "seqinfo.ini"
        ini.write_text(ini.read_text().replace("frameRate=2\n", f"frameRate={rate}\n"))
        model = run.good["trackssm_at"] if tracker == "trackssm" else None
        return run.track(tracker=tracker, model=model, mot_dir=mot)

    return case


def trackssm_other_image_size(run):
    return run.track(tracker="trackssm", model=trackssm_checkpoint(run.tmp, 2.0, (1600, 900)))


def det_score(line: str) -> str:
    fields = line.split(",")
    fields[6] = "16.0000"
    return ",".join(fields)


def det_line(how):
    def case(run):
        dets = run.dir_copy("dets")
        write_bad_mot(dets / f"{first_seq(run)}.txt", "det", 3, how)
        return run.track(dets=dets)

    return case


def result_line(how):
    def case(run):
        results = run.dir_copy("results")
        write_bad_mot(results / f"{first_seq(run)}.txt", "result", 2, how)
        return run.evaluate_tracking(results=results)

    return case


def result_beyond_sequence(run):
    results = run.dir_copy("results")
    write_bad_mot(results / f"{first_seq(run)}.txt", "result", 3, lambda line: "99" + line[line.index(","):])
    return run.evaluate_tracking(results=results)


def gt_line(how, stage: str):
    def case(run):
        mot = run.mot_copy()
        write_bad_mot(mot / first_seq(run) / "gt" / "gt.txt", "gt", 4, how)
        return run.evaluate_tracking(mot_dir=mot) if stage == "evaluate_tracking" else run.gt_detections(mot_dir=mot)

    return case


def params_not_json(run):
    stage, argv, outs = run.track()
    argv[argv.index("--params") + 1] = '{"cfg": {"match_thresh": 0.8,}'
    return stage, argv, outs


def params_unknown_key(run):
    return run.gt_detections(drop_rat=0.3)


def params_wrong_type(run):
    return run.gt_detections(drop_rate="high")


def params_out_of_range(run):
    return run.gt_detections(drop_rate=1.5)


def config_change(dotted: str, value):
    def case(run):
        from e2e.workflow import tiny_config, with_change, write_config

        workdir = run.tmp / "workdir"
        workdir.mkdir()
        write_config(workdir, with_change(tiny_config(workdir), dotted, value))
        return "snakemake", [workdir, "--dry-run"], [workdir / "results"]

    return case


# ---- the table ---------------------------------------------------------------------------------
P = r"[^:]+"  # a path without ':'


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Run], tuple]
    error: str  # regex the last stderr line must match (fully)
    exit_code: int = 2


CASES = [
    # dataset (convert)
    Case("missing dataroot", missing_dataroot, rf"error: {P}/no-such-dataroot: dataroot does not exist \(or is not a folder\)"),
    Case("wrong version", wrong_version,
         rf"error: {P}/v1\.0-wrong: missing version folder 'v1\.0-wrong' in the dataroot"),
    Case("corrupt table JSON", corrupt_table,
         rf"error: {P}/v1\.0-synth/sample\.json: corrupt table JSON \(.+ at line \d+ column \d+\)"),
    Case("truncated table JSON", truncated_table,
         rf"error: {P}/v1\.0-synth/sample_annotation\.json: corrupt table JSON \(.+ at line \d+ column \d+\)"),
    Case("missing table", missing_table, rf"error: {P}/v1\.0-synth/ego_pose\.json: missing nuScenes table file"),
    Case("sample_data -> missing image", missing_image,
         rf"error: {P}/samples/CAM_FRONT/{P}\.jpg: missing image of sample_data \w+ \(v1\.0-synth/sample_data\.json\)"),
    Case("unknown category in the mapping", unknown_category,
         rf"error: {P}/v1\.0-synth/category\.json \[convert\.category_map\.car\]: nuScenes category 'vehicle\.carriage' "
         r"\(config convert\.category_map\.car\) matches no category of this dataset"),
    Case("unknown class in the mapping", unknown_class,
         r"error: --params \[convert\.category_map\.tram\]: class 'tram' is not one of classes .*"),
    # images (the detector's data loading names the file; convert checks existence and the file's end)
    Case("corrupt JPEG (infer)", corrupt_jpeg_infer, rf"error: {P}/samples/CAM_FRONT/{P}\.jpg: cannot decode image"),
    Case("corrupt JPEG (evaluate_detector)", corrupt_jpeg_evaluate_detector,
         rf"error: {P}/samples/CAM_\w+/{P}\.jpg: cannot decode image"),
    Case("corrupt JPEG (train, workers 0)", corrupt_jpeg_train(0), rf"error: {P}/samples/CAM_\w+/{P}\.jpg: cannot decode image"),
    Case("corrupt JPEG (train, workers 2)", corrupt_jpeg_train(2), rf"error: {P}/samples/CAM_\w+/{P}\.jpg: cannot decode image"),
    Case("truncated JPEG (convert)", truncated_jpeg("convert"),
         rf"error: {P}/samples/CAM_FRONT/{P}\.jpg: truncated JPEG \(no end-of-image marker FF D9\), "
         r"image of sample_data \w+ \(v1\.0-synth/sample_data\.json\)"),
    *[Case(f"truncated JPEG ({stage})", truncated_jpeg(stage),
           rf"error: {P}/samples/CAM_\w+/{P}\.jpg: cannot decode image: truncated JPEG \(no end-of-image marker FF D9\)")
      for stage in ("infer", "evaluate_detector", "train")],
    # COCO
    Case("COCO box of negative size (train)", negative_box("train"),
         rf"error: {P}/train\.json( \[annotations\]|:\d+)?: .*negative.*"),
    Case("COCO box of negative size (evaluate_detector)", negative_box("val"),
         rf"error: {P}/val\.json( \[annotations\]|:\d+)?: .*negative.*"),
    # checkpoints
    Case("checkpoint of 3 classes (infer)", checkpoint_classes("infer"),
         rf"error: {P}/ckpt_3_classes\.pth: checkpoint has 3 classes, expected 7"),
    Case("checkpoint of 3 classes (evaluate_detector)", checkpoint_classes("evaluate_detector"),
         rf"error: {P}/ckpt_3_classes\.pth: checkpoint has 3 classes, expected 7"),
    Case("checkpoint of random bytes (infer)", checkpoint_random_bytes("infer"),
         rf"error: {P}/random\.pth: not a readable torch checkpoint \(\w+: .*\)"),
    Case("checkpoint of random bytes (evaluate_detector)", checkpoint_random_bytes("evaluate_detector"),
         rf"error: {P}/random\.pth: not a readable torch checkpoint \(\w+: .*\)"),
    Case("torch file without the checkpoint keys (infer)", checkpoint_without_keys("infer"),
         rf"error: {P}/other\.pth: not a model checkpoint \(no 'model' state_dict of tensors\)"),
    Case("torch file without the checkpoint keys (evaluate_detector)", checkpoint_without_keys("evaluate_detector"),
         rf"error: {P}/other\.pth: not a model checkpoint \(no 'model' state_dict of tensors\)"),
    Case("YOLOX checkpoint without model_config (infer)", yolox_checkpoint_without_model_config,
         rf"error: {P}/yolox_nano\.pth: checkpoint lacks its model_config \(not trained by nuscmot\.stages\.train\?\)"),
    Case("TrackSSM checkpoint of random bytes (track)", trackssm_random_bytes,
         rf"error: {P}/model\.pt: not a TrackSSM checkpoint \(cannot be loaded: \w+\)"),
    # camera poses (track with ego-motion compensation)
    Case("missing camera pose file (track, ego_compensation)", missing_cam_pose,
         rf"error: {P}/scene-\d+/cam_pose\.json: missing camera pose file \(written by convert; "
         r"tracking\.association\.ego_compensation needs it\)"),
    Case("TrackSSM checkpoint version 1 (track)", trackssm_v1_checkpoint,
         rf"error: {P}/model_v1\.pt: TrackSSM checkpoint version 1 records no frame rate or image size; "
         r"retrain it \(snakemake train_trackssm\)"),
    Case("TrackSSM trained at another frame rate (track)", seqinfo_frame_rate("10", "trackssm"),
         rf"error: {P}/scene-\d+/seqinfo\.ini: frameRate 10 Hz but the TrackSSM model was trained at 2 Hz "
         rf"\({P}/trackssm_2hz_\d+x\d+\.pt\); retrain TrackSSM on such data or set "
         r"tracking\.motion\.trackssm\.allow_rate_mismatch: true"),
    Case("TrackSSM trained on another image size (track: every sequence checked first, all named)",
         trackssm_other_image_size,
         rf"error: {P}: 2 of 2 sequences cannot be tracked: (?:scene-\d+ \({P}/scene-\d+/seqinfo\.ini: image size "
         rf"\d+x\d+ but the TrackSSM model was trained on 1600x900, beyond size_tolerance 0\.01 "
         rf"\({P}/trackssm_2hz_1600x900\.pt\); retrain TrackSSM on such data or set "
         r"tracking\.motion\.trackssm\.allow_size_mismatch: true\)(?:; )?){2}"),
    Case("seqinfo.ini frame rate 0 (track)", seqinfo_frame_rate("0", "kalman"),
         rf"error: {P}/scene-\d+/seqinfo\.ini: frameRate must be > 0, got 0"),
    # MOT text
    Case("det line with 9 columns (track)", det_line(drop_column),
         rf"error: {P}/scene-\d+\.txt:3: expected 10 comma-separated columns for det, got 9"),
    Case("det line with a non-numeric field (track)", det_line(non_numeric),
         rf"error: {P}/scene-\d+\.txt:3: non-numeric field 'abc'"),
    Case("det score outside [0, 1] (track)", det_line(det_score),
         rf"error: {P}/scene-\d+\.txt:3: detection score 16 is outside \[0, 1\], the range of every tracking threshold "
         r"\(a detector that emits logits needs tracking\.score_transform\.kind: sigmoid\)"),
    Case("result line with 9 columns (evaluate_tracking)", result_line(drop_column),
         rf"error: {P}/scene-\d+\.txt:2: expected 10 comma-separated columns for result, got 9"),
    Case("result line with a non-numeric field (evaluate_tracking)", result_line(non_numeric),
         rf"error: {P}/scene-\d+\.txt:2: non-numeric field 'abc'"),
    Case("result frame beyond the sequence (evaluate_tracking)", result_beyond_sequence,
         rf"error: {P}/scene-\d+\.txt:3: frame 99 is beyond the sequence length \d+ \(seqinfo\.ini\)"),
    Case("gt line with 8 columns (evaluate_tracking)", gt_line(drop_column, "evaluate_tracking"),
         rf"error: {P}/gt/gt\.txt:4: expected 9 comma-separated columns for gt, got 8"),
    Case("gt line with a non-numeric field (gt_detections)", gt_line(non_numeric, "gt_detections"),
         rf"error: {P}/gt/gt\.txt:4: non-numeric field 'abc'"),
    # --params of an entry point
    Case("--params not JSON (track)", params_not_json, r"error: --params: params are not valid JSON \(.+ at char \d+\)"),
    Case("--params unknown key (gt_detections)", params_unknown_key, r"error: gt_detections( \[[\w.]+\])?: unknown key\(s\) drop_rat"),
    Case("--params wrong type (gt_detections)", params_wrong_type, r"error: (--params|gt_detections)( \[[\w.]+\])?: .*drop_rate.*"),
    Case("--params out of range (gt_detections)", params_out_of_range,
         r"error: (--params|gt_detections)( \[[\w.]+\])?: .*drop_rate.*"),
    # config.yaml through Snakemake (schema)
    Case("config: wrong type", config_change("detector.batch_size", "eight"),
         rf"{P}/config\.yaml: invalid config at detector\.batch_size: 'eight' is not of type 'integer'", exit_code=1),
    Case("config: out of range", config_change("tracking.association.match_thresh", 1.5),
         rf"{P}/config\.yaml: invalid config at tracking\.association\.match_thresh: 1\.5 is greater than the maximum of 1",
         exit_code=1),
    Case("config: unknown key", config_change("evaluation.iou", 0.5),
         rf"{P}/config\.yaml: invalid config at evaluation: Additional properties are not allowed \('iou' was unexpected\)",
         exit_code=1),
]


def _params(cases):
    return [pytest.param(c, id=re.sub(r"[^a-z0-9]+", "-", c.name.lower()).strip("-")) for c in cases]


@pytest.mark.parametrize("case", _params(CASES))
def test_bad_input_is_one_line_naming_the_file(case: Case, good, tmp_path):
    run = Run(good, tmp_path)
    stage, argv, outputs = case.make(run)
    if stage == "snakemake":
        workdir, *args = argv
        proc = run_snakemake(workdir, *args)
    else:
        proc = run_entry(stage, argv)
    lines = stderr_lines(proc.stderr)
    tail = "\n".join(lines[-12:])
    assert proc.returncode == case.exit_code, f"exit {proc.returncode}, stderr ends:\n{tail}"
    assert "Traceback (most recent call last)" not in proc.stderr, f"traceback on stderr:\n{tail}"
    assert lines, "nothing on stderr"
    assert re.fullmatch(case.error, lines[-1]), f"last stderr line {lines[-1]!r} does not match {case.error!r}\n{tail}"
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) <= 1, errors
    for path in outputs:
        assert not Path(path).exists(), f"partial output left behind: {path}"
    assert not leftovers(run.tmp), leftovers(run.tmp)


def test_every_case_is_in_the_readme_troubleshooting_table():
    """The README lists the message of each kind of bad input (kept in step with this table)."""
    from e2e.workflow import ROOT

    text = (ROOT / "README.md").read_text()
    section = text.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    for needle in ("dataroot does not exist", "missing version folder", "corrupt table JSON", "missing nuScenes table file",
                   "missing image of sample_data", "matches no category of this dataset", "is not one of classes",
                   "cannot decode image", "truncated JPEG (no end-of-image marker", "classes, expected", "not a readable torch checkpoint",
                   "not a model checkpoint", "not a TrackSSM checkpoint", "comma-separated columns",
                   "non-numeric field", "invalid config at", "params are not valid JSON",
                   "lacks its model_config", "beyond the sequence length", "Directory cannot be locked",
                   "cannot write (", "records no frame rate or image size", "but the TrackSSM model was trained at",
                   "but the TrackSSM model was trained on", "frameRate must be > 0", "detection score"):
        assert needle in section, needle
