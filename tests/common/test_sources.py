"""The ``detections`` slice: every source checked, each bad entry one line naming
``detections.<name>.<key>``."""

from __future__ import annotations

import pytest
import yaml

from nuscmot.common.errors import InputError
from nuscmot.common.sources import DetectionSource, detection_sources, source_from_json

DIGEST = "ab" * 32


def test_the_demo_sources(repo_root):
    config = yaml.safe_load((repo_root / "config.yaml").read_text())
    sources = detection_sources(config["detections"])
    assert sorted(sources) == ["finetuned", "gt", "pretrained"]
    assert sources["finetuned"] == DetectionSource(kind="checkpoint", checkpoint="train")
    assert sources["pretrained"].sha256 == config["detector"]["pretrained_sha256"]
    assert sources["gt"].kind == "gt"


def test_kinds_and_their_keys():
    got = detection_sources({
        "coco": {"kind": "checkpoint", "checkpoint": "weights/yolox_l.pth", "sha256": DIGEST, "class_map": "coco",
                 "model": "yolox_l", "input_size": [896, 1600]},
        "mine": {"kind": "files", "dir": "dets/mine"}, "gt": {"kind": "gt"}})
    assert got["coco"].input_size == (896, 1600) and got["mine"].dir == "dets/mine"
    assert got["coco"].record == {"kind": "checkpoint", "checkpoint": "weights/yolox_l.pth", "class_map": "coco"}


def test_defaults_filled_in_by_the_schema_validation_pass():
    """Snakemake's validation fills every default into each entry: a gt source with them is fine."""
    filled = {"kind": "gt", "checkpoint": "", "sha256": "", "class_map": "none", "model": "", "input_size": [],
              "dir": ""}
    assert detection_sources({"gt": filled})["gt"] == DetectionSource(kind="gt")


@pytest.mark.parametrize("mapping, where, problem", [
    ({"Bad-Name": {"kind": "gt"}}, "detections.Bad-Name", "must match"),
    ({"a": {"kind": "lidar"}}, "detections.a.kind", "kind must be one of checkpoint, gt, files"),
    ({"a": {"dir": "x"}}, "detections.a.kind", "kind must be one of"),
    ({"a": {"kind": "checkpoint"}}, "detections.a.checkpoint", "a checkpoint source needs checkpoint"),
    ({"a": {"kind": "files"}}, "detections.a.dir", "a files source needs dir"),
    ({"a": {"kind": "gt", "dir": "x"}}, "detections.a.dir", "not a key of a gt source"),
    ({"a": {"kind": "files", "dir": "x", "class_map": "coco"}}, "detections.a.class_map", "not a key of a files source"),
    ({"a": {"kind": "gt", "colour": 1}}, "detections.a.colour", "unknown key"),
    ({"a": {"kind": "checkpoint", "checkpoint": "f", "sha256": "abc"}}, "detections.a.sha256", "sha256 must be a string matching"),
    ({"a": {"kind": "checkpoint", "checkpoint": "f", "class_map": "voc"}}, "detections.a.class_map", "one of none, coco"),
    ({"a": {"kind": "checkpoint", "checkpoint": "f", "model": "yolox_q"}}, "detections.a.model", "model must be one of"),
    ({"a": {"kind": "checkpoint", "checkpoint": "f", "model": "yolox_s"}}, "detections.a.input_size", "both model and input_size"),
    ({"a": {"kind": "checkpoint", "checkpoint": "f", "model": "yolox_s", "input_size": [640, 650]}},
     "detections.a.input_size", "multiple of 32"),
    ({"a": {"kind": "checkpoint", "checkpoint": "f", "model": "yolox_s", "input_size": [640]}},
     "detections.a.input_size", "must be \\[h, w\\]"),
    ({"a": "gt"}, "detections.a", "must be a mapping with a kind"),
    (["gt"], "detections", "must be a mapping of source name"),
])
def test_bad_entries_are_one_line(mapping, where, problem):
    with pytest.raises(InputError, match=problem) as err:
        detection_sources(mapping)
    assert err.value.path == where and "\n" not in str(err.value)


def test_source_from_json():
    assert source_from_json('{"kind": "gt"}').kind == "gt"
    with pytest.raises(InputError, match="--source: not JSON"):
        source_from_json("{kind: gt}")
