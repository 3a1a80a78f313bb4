"""``infer --source``: a bare COCO-headed checkpoint (an official YOLOX file's layout) through the
real stage with ``class_map: coco``, the digest check, and the one-line refusals."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from nuscmot.common.errors import InputError
from nuscmot.common.mot import SeqInfo, read_mot, write_image_list, write_seqinfo, write_seqmap
from nuscmot.common.sources import MODELS
from nuscmot.detector.checkpoint import build_model
from nuscmot.detector.config import MODEL_SIZES
from nuscmot.detector.source_model import COCO_TO_OURS
from nuscmot.stages import infer

H, W = 64, 96
PARAMS = {"checkpoint": "best", "num_classes": 7, "conf_threshold": 0.0, "nms_threshold": 0.65, "batch_size": 2,
          "workers": 0, "threads": 1, "fp16": False, "device": "cpu"}


@pytest.fixture(scope="module")
def sequences(tmp_path_factory) -> dict[str, Path]:
    """Two sequences of 2 noise frames each, in convert's MOT layout."""
    root = tmp_path_factory.mktemp("source_infer")
    rng = np.random.default_rng(0)
    names = ["scene-a", "scene-b"]
    for name in names:
        images = []
        for f in range(2):
            rel = f"samples/{name}_{f}.jpg"
            (root / "samples").mkdir(exist_ok=True)
            cv2.imwrite(str(root / rel), rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
            images.append(rel)
        write_seqinfo(root / "mot" / name / "seqinfo.ini", SeqInfo(name=name, length=2, width=W, height=H))
        write_image_list(root / "mot" / name / "img1.txt", images)
    write_seqmap(root / "seqmap.txt", names)
    return {"root": root, "mot": root / "mot", "seqmap": root / "seqmap.txt"}


@pytest.fixture(scope="module")
def coco_ckpt(sequences) -> Path:
    """A tiny yolox_nano with an 80-class head, saved bare (no model_config), as YOLOX ships them."""
    torch.manual_seed(0)
    model = build_model({"model": "yolox_nano", "num_classes": 80, "input_size": [H, W]})
    path = sequences["root"] / "yolox_nano_coco.pth"
    torch.save({"model": model.state_dict()}, path)
    return path


def run_infer(sequences, weights: Path, out: Path, source: dict | None, params=PARAMS) -> None:
    argv = ["--params", json.dumps(params), "--weights", str(weights), "--mot-dir", str(sequences["mot"]),
            "--seqmap", str(sequences["seqmap"]), "--image-root", str(sequences["root"]), "--out-dir", str(out / "dets"),
            "--timing", str(out / "timing.json")]
    infer.main(argv + (["--source", json.dumps(source)] if source is not None else []))


def coco_source(path: Path, **changes) -> dict:
    return {"kind": "checkpoint", "checkpoint": str(path), "class_map": "coco", "model": "yolox_nano",
            "input_size": [H, W], **changes}


def test_coco_head_maps_to_our_classes(sequences, coco_ckpt, tmp_path):
    digest = hashlib.sha256(coco_ckpt.read_bytes()).hexdigest()
    run_infer(sequences, coco_ckpt, tmp_path, coco_source(coco_ckpt, sha256=digest))
    classes = set()
    for name in ("scene-a", "scene-b"):
        rows = read_mot(tmp_path / "dets" / f"{name}.txt", "det")
        classes |= set(rows[:, 7].astype(int).tolist())
    assert classes and classes <= {1, 2, 3, 5, 6, 7}
    timing = json.loads((tmp_path / "timing.json").read_text())
    assert timing["source"] == {"kind": "checkpoint", "checkpoint": str(coco_ckpt), "class_map": "coco",
                                "head_classes": 80}
    assert timing["model"] == "yolox_nano" and timing["input_size"] == [H, W]


def test_coco_map_follows_yolox_class_names():
    from nuscmot.detector import ensure_yolox_importable  # noqa: F401  (yolox without torchvision)
    from yolox.data.datasets.coco_classes import COCO_CLASSES

    ours = ["car", "truck", "bus", "trailer", "pedestrian", "motorcycle", "bicycle"]
    named = {COCO_CLASSES[i]: ours[c - 1] for i, c in COCO_TO_OURS.items()}
    assert named == {"person": "pedestrian", "bicycle": "bicycle", "car": "car", "motorcycle": "motorcycle",
                     "bus": "bus", "truck": "truck"}
    assert set(MODELS) == {"", *MODEL_SIZES}


def test_wrong_sha256_is_one_line(sequences, coco_ckpt, tmp_path):
    with pytest.raises(InputError, match=r"sha256 [0-9a-f]{16}\.\.\. does not match the detection source's sha256") as err:
        run_infer(sequences, coco_ckpt, tmp_path, coco_source(coco_ckpt, sha256="0" * 64))
    assert "\n" not in str(err.value) and str(coco_ckpt) in str(err.value)
    assert not (tmp_path / "dets").exists()


def test_coco_head_without_class_map_is_one_line(sequences, coco_ckpt, tmp_path):
    with pytest.raises(InputError, match="80-class head, expected 7 .*class_map: coco"):
        run_infer(sequences, coco_ckpt, tmp_path, coco_source(coco_ckpt, class_map="none"))


def test_bare_checkpoint_needs_model_and_input_size(sequences, coco_ckpt, tmp_path):
    with pytest.raises(InputError, match="no model_config .*model and input_size"):
        run_infer(sequences, coco_ckpt, tmp_path, {"kind": "checkpoint", "checkpoint": "x", "class_map": "coco"})


def test_stage_prints_one_line(sequences, coco_ckpt, tmp_path):
    """Through the real entry point: exit status 2, one error line naming the file."""
    argv = [sys.executable, "-m", "nuscmot.stages.infer", "--params", json.dumps(PARAMS), "--weights", str(coco_ckpt),
            "--mot-dir", str(sequences["mot"]), "--seqmap", str(sequences["seqmap"]), "--image-root",
            str(sequences["root"]), "--out-dir", str(tmp_path / "d"), "--timing", str(tmp_path / "t.json"),
            "--source", json.dumps(coco_source(coco_ckpt, sha256="f" * 64))]
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and str(coco_ckpt) in errors[0] and "sha256" in errors[0]
