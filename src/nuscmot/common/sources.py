"""Named detection sources: the ``detections`` config slice, one entry per source the tracking
compares (``tracking.sources`` lists their names).

Each source has one kind:

- ``checkpoint``: a YOLOX checkpoint run through ``infer`` on the test and tuning sequences;
  ``checkpoint: train`` is the ``train`` rule's output, anything else a file (``sha256``, when
  set, is checked before loading). A checkpoint without ``model_config`` (an official YOLOX
  file, a bare ``{"model": state_dict}``) is built from ``model`` and ``input_size``;
  ``class_map: coco`` maps an 80-class COCO head to our classes.
- ``gt``: GT-derived detections (``gt_detections``).
- ``files``: a folder of MOT detection files, one per sequence, from any detector (checked by
  ``check_detections`` before tracking): ``<dir>/<pattern>`` with ``{seq}`` the sequence name,
  ``{seq}.txt`` by default, ``{seq}/det/det.txt`` for a MOTChallenge-layout folder. The class
  column must hold 1..N, N the number of classes of the dataset (nuScenes: 7).

Torch- and numpy-free: the Snakefile reads the slice when it is parsed.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from nuscmot.common.cli import json_arg
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.fields import check_fields, limited

KINDS = ("checkpoint", "gt", "files")
CLASS_MAPS = ("none", "coco")
# the YOLOX sizes of nuscmot.detector.config.MODEL_SIZES ("" = the checkpoint's own model_config)
MODELS = ("", "yolox_nano", "yolox_tiny", "yolox_s", "yolox_m", "yolox_l", "yolox_x")
TRAIN = "train"  # checkpoint: the train rule's output
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# keys a kind may set besides ``kind``; required ones first
KIND_KEYS = {
    "checkpoint": (("checkpoint",), ("sha256", "class_map", "model", "input_size")),
    "gt": ((), ()),
    "files": (("dir",), ("pattern",)),
}


@dataclass(frozen=True)
class DetectionSource:
    """One entry of the ``detections`` slice (see the module docstring)."""

    kind: str = limited(enum=KINDS)  # required: no default
    checkpoint: str = ""  # "train": the train rule's output; else a checkpoint file
    sha256: str = limited("", pattern="^([0-9a-fA-F]{64})?$")  # when set, the file must have this digest
    class_map: str = limited("none", enum=CLASS_MAPS)  # coco: an 80-class COCO head mapped to our classes
    model: str = limited("", enum=MODELS)  # YOLOX size of a checkpoint without model_config
    input_size: tuple[int, ...] = limited((), maxItems=2, items={"minimum": 32, "multipleOf": 32})  # (h, w) of one
    dir: str = ""  # files: the folder of MOT detection files
    pattern: str = limited("{seq}.txt", pattern="\\{seq\\}")  # files: each sequence's file below dir

    def file_of(self, seq: str) -> str:
        """A files source's detection file of sequence ``seq``."""
        return str(Path(self.dir) / self.pattern.replace("{seq}", seq))

    def to_json(self) -> dict[str, Any]:
        """The entry as config.yaml spells it (what ``infer --source`` takes)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    @property
    def record(self) -> dict[str, Any]:
        """What an output records of its source (name-free): kind, checkpoint, class_map."""
        return {"kind": self.kind, "checkpoint": self.checkpoint, "class_map": self.class_map}


def _is_default(value: Any, default: Any) -> bool:
    return (list(value) == list(default)) if isinstance(default, tuple) and isinstance(value, (list, tuple)) \
        else value == default


def _check_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, Mapping):
        raise InputError(where, f"a detection source must be a mapping with a kind, got {entry!r}")
    fields = [f.name for f in dataclasses.fields(DetectionSource)]
    unknown = next((k for k in entry if k not in fields), None)
    if unknown is not None:
        raise InputError(f"{where}.{unknown}", f"unknown key (a detection source has {', '.join(fields)})")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise InputError(f"{where}.kind", f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    required, optional = KIND_KEYS[kind]
    missing = next((k for k in required if not entry.get(k)), None)
    if missing is not None:
        raise InputError(f"{where}.{missing}", f"a {kind} source needs {missing}")
    # a key of another kind may only hold its default (Snakemake's validation fills defaults in)
    defaults = {f.name: f.default for f in dataclasses.fields(DetectionSource)}
    extra = next((k for k in entry if k != "kind" and k not in required + optional
                  and not _is_default(entry[k], defaults[k])), None)
    if extra is not None:
        raise InputError(f"{where}.{extra}", f"not a key of a {kind} source (its keys: kind, "
                                             f"{', '.join(required + optional) or 'nothing else'})")


def detection_source(entry: Any, where: str = "detections") -> DetectionSource:
    """One source entry, checked: its kind's keys only, each within its limits, ``input_size``
    empty or (h, w), a ``model`` and ``input_size`` together; one-line InputError ``<where>.<key>``."""
    _check_entry(entry, where)
    try:
        source = from_dict(DetectionSource, dict(entry), where=where)
        check_fields(source, where)
    except InputError as exc:
        raise InputError(f"{where}.{exc.key}" if exc.key and exc.key != where else where, exc.problem) from None
    if len(source.input_size) not in (0, 2):
        raise InputError(f"{where}.input_size", f"input_size must be [h, w], got {list(source.input_size)}")
    if bool(source.model) != bool(source.input_size):
        raise InputError(f"{where}.{'input_size' if source.model else 'model'}",
                         "a checkpoint without model_config needs both model and input_size")
    return source


# A config without a detections slice: the trained detector and GT-derived detections
# (tracking.sources' default names them; the schema repeats this default).
DEFAULT_DETECTIONS = {"detector": {"kind": "checkpoint", "checkpoint": "train"}, "gt": {"kind": "gt"}}


def detection_sources(mapping: Any, where: str = "detections") -> dict[str, DetectionSource]:
    """The ``detections`` slice: source name -> :class:`DetectionSource`, every entry checked
    (None: :data:`DEFAULT_DETECTIONS`)."""
    if mapping is None:
        mapping = DEFAULT_DETECTIONS
    if not isinstance(mapping, Mapping):
        raise InputError(where, f"must be a mapping of source name -> source, got {type(mapping).__name__}")
    out = {}
    for name, entry in mapping.items():
        if not isinstance(name, str) or not NAME.match(name):
            raise InputError(f"{where}.{name}", f"source name {name!r} must match {NAME.pattern}")
        out[name] = detection_source(entry, f"{where}.{name}")
    return out


def source_from_json(text: str, flag: str = "--source") -> DetectionSource:
    """One source entry given on a command line as JSON (``--source '{"kind": ...}'``)."""
    return detection_source(json_arg(text, flag), flag)
