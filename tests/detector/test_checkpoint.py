"""Exported checkpoints, official-format pretrained weights, and bad files."""

from __future__ import annotations

import logging

import pytest
import torch

from nuscmot.common.errors import InputError
from nuscmot.detector import checkpoint as ckpt_io
from nuscmot.detector.config import detector_config, model_config
from nuscmot.detector.exp import NuscExp

from .helpers import small_detector_cfg


def nano(num_classes=7, seed=0):
    torch.manual_seed(seed)
    return NuscExp(detector_config(small_detector_cfg(num_classes=num_classes))).get_model()


def test_pretrained_80_class_checkpoint_loads_all_but_the_class_head(tmp_path, caplog):
    coco80 = nano(num_classes=80, seed=1)
    path = tmp_path / "yolox_nano.pth"
    torch.save({"model": coco80.state_dict(), "start_epoch": 300}, path)  # official layout
    model = nano(7, seed=2)
    with caplog.at_level(logging.INFO, logger="nuscmot.detector.checkpoint"):
        loaded, skipped = ckpt_io.load_pretrained(model, path)
    skipped_keys = {s.split(" ")[0] for s in skipped}
    assert skipped_keys == {f"head.cls_preds.{i}.{p}" for i in range(3) for p in ("weight", "bias")}
    sd, theirs = model.state_dict(), coco80.state_dict()
    for key in loaded:
        assert torch.equal(sd[key], theirs[key])
    assert len(loaded) + len(skipped) == len(sd)
    assert "skipped head.cls_preds.0.weight (shape (80, 64, 1, 1) vs (7, 64, 1, 1))" in caplog.text


def test_pretrained_of_another_model_size_is_rejected(tmp_path):
    s = NuscExp(detector_config(small_detector_cfg(model="yolox_s"))).get_model()
    path = tmp_path / "yolox_s.pth"
    torch.save({"model": s.state_dict()}, path)
    with pytest.raises(InputError, match=r"yolox_s.pth: only \d+/\d+ backbone tensors match"):
        ckpt_io.load_pretrained(nano(), path)


def test_export_round_trip_rebuilds_the_same_network(tmp_path):
    cfg = detector_config(small_detector_cfg())
    model = nano().eval()
    path = tmp_path / "best.pth"
    ckpt_io.export(path, model.state_dict(), model_config(cfg), epoch=3, metrics={"AP50": 0.5})
    loaded, ckpt = ckpt_io.load_model(path, expected_num_classes=7)
    assert ckpt["epoch"] == 3 and ckpt["model_config"]["input_size"] == [64, 96]
    x = torch.rand(1, 3, 64, 96) * 255
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert not list(tmp_path.glob(".*tmp"))  # atomic write leaves no temp file


def test_checkpoint_with_other_class_count_is_an_input_error(tmp_path):
    cfg = detector_config(small_detector_cfg(num_classes=80))
    path = tmp_path / "coco80.pth"
    ckpt_io.export(path, nano(80).state_dict(), model_config(cfg))
    with pytest.raises(InputError, match=r"coco80.pth: checkpoint has 80 classes, expected 7"):
        ckpt_io.load_model(path, expected_num_classes=7)


@pytest.mark.parametrize("content, problem", [
    (b"not a torch file", "not a readable torch checkpoint"),
    (None, "not a model checkpoint"),
    ("official", "lacks its model_config"),
])
def test_files_that_are_not_our_checkpoints(tmp_path, content, problem):
    path = tmp_path / "weights.pth"
    if content is None:
        torch.save({"epoch": 1}, path)
    elif content == "official":
        torch.save({"model": nano().state_dict()}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match=problem) as exc:
        ckpt_io.load_model(path, expected_num_classes=7)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(InputError, match="missing checkpoint"):
        ckpt_io.load_model(tmp_path / "nope.pth")
