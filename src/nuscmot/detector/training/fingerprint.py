"""What a training run computes, as one digest: the config slice and the input files.

A saved state resumes only under the same fingerprint. The config part is the set of
fields that differ from a *frozen* table, :data:`V1_DEFAULTS` (DetectorConfig's defaults
when the state format was introduced), never from the live defaults: so a later change
of a default, or a new field at its introduction default (:data:`ADDED_FIELDS`), keeps
every saved state resumable, while a config whose values really change starts fresh.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any, Protocol

from nuscmot.common.errors import InputError
from nuscmot.detector.config import DetectorConfig

RUNTIME_ONLY = ("workers", "threads")  # config keys that do not change what is computed

# DetectorConfig's defaults of state format 1 ("nuscmot-yolox-state/1"). Frozen: never edit.
V1_DEFAULTS: dict[str, Any] = {
    "model": "yolox_l", "num_classes": 7, "pretrained": "", "pretrained_sha256": "", "allow_scratch": False,
    "input_size": (640, 640), "multiscale_range": 5, "batch_size": 8, "workers": 2, "threads": 0,
    "freeze_epochs": 15, "unfreeze_epochs": 15, "warmup_epochs": 1, "basic_lr_per_img": 0.01 / 64,
    "min_lr_ratio": 0.05, "weight_decay": 5e-4, "momentum": 0.9, "no_aug_epochs": 2, "ema": True, "amp": True,
    "eval_interval": 5, "keep_epoch_ckpts": 2, "mosaic_prob": 1.0, "mixup_prob": 1.0, "hsv_prob": 1.0,
    "flip_prob": 0.5, "degrees": 10.0, "translate": 0.1, "shear": 2.0, "mosaic_scale": (0.5, 1.5),
    "mixup_scale": (0.5, 1.5), "max_train_images": 0, "max_iters_per_epoch": 0, "max_val_images": 0, "seed": 0,
}
# Fields added since, each with the value that computes what version 1 computed. Append only.
ADDED_FIELDS: dict[str, Any] = {
    "eval_conf_threshold": 0.001,  # was NuscExp.test_conf
    "eval_nms_threshold": 0.65,    # was NuscExp.nmsthre
}
BASELINE: dict[str, Any] = {**V1_DEFAULTS, **ADDED_FIELDS}


class InputFiles(Protocol):
    train_json: Path
    val_json: Path


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_digest(path: Path, expected: str, key: str = "detector.pretrained_sha256") -> None:
    """A pretrained file must be the one the config names: its sha256 is checked when given
    (``key``: the config key that names the digest)."""
    if not expected:
        return
    if not Path(path).is_file():
        raise InputError(path, f"missing checkpoint (its digest is set in {key})")
    actual = file_digest(path)
    if actual != expected.lower():
        raise InputError(path, f"sha256 {actual[:16]}... does not match {key} "
                               f"{expected[:16]}... (a different or damaged file; restore it or update the digest)")


def check_pretrained(cfg: DetectorConfig) -> Path | None:
    """The pretrained checkpoint to start from, checked before the state dir is touched:
    present (else an InputError; None, i.e. from scratch, under ``allow_scratch``), of
    sha256 ``pretrained_sha256`` when set, and readable as a YOLOX checkpoint."""
    from nuscmot.detector.checkpoint import pretrained_state_dict

    path = Path(cfg.pretrained) if cfg.pretrained else None
    if path is None or not path.is_file():
        if cfg.allow_scratch:
            return None
        raise InputError(path or "detector.pretrained",
                         "pretrained checkpoint not found; download it or set detector.allow_scratch: true")
    try:
        check_digest(path, cfg.pretrained_sha256)
    except OSError as exc:
        raise InputError(path, f"cannot read pretrained checkpoint ({exc.strerror or exc})") from None
    pretrained_state_dict(path)
    return path


def changed_fields(cfg: DetectorConfig) -> dict[str, Any]:
    """The config fields that differ from :data:`BASELINE` (less RUNTIME_ONLY).

    A field in neither table (added without an entry in ADDED_FIELDS) always counts as
    changed: a fresh start rather than a resume that computes something else.
    """
    missing = object()
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)
            if f.name not in RUNTIME_ONLY and getattr(cfg, f.name) != BASELINE.get(f.name, missing)}


def fingerprint_doc(cfg: DetectorConfig, paths: InputFiles) -> dict[str, Any]:
    """What the fingerprint digests (JSON values): the changed config fields and the
    contents of the inputs that change what training computes."""
    pre = Path(cfg.pretrained) if cfg.pretrained else None
    doc = {
        "cfg": changed_fields(cfg),
        "train_json": file_digest(paths.train_json),
        "val_json": file_digest(paths.val_json),
        "pretrained": file_digest(pre) if pre is not None and pre.is_file() else None,
    }
    return json.loads(json.dumps(doc, default=list))


def digest(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=list).encode()).hexdigest()


def fingerprint(cfg: DetectorConfig, paths: InputFiles) -> str:
    """Config slice + contents of the inputs that change what training computes."""
    return digest(fingerprint_doc(cfg, paths))


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two :func:`fingerprint_doc` s, e.g. ``basic_lr_per_img 0.0005 -> 0.001``
    or ``train_json contents``."""
    missing = object()
    out = []
    for key in sorted(set(old.get("cfg", {})) | set(new.get("cfg", {}))):
        base = json.loads(json.dumps(BASELINE.get(key, missing), default=list)) if key in BASELINE else missing
        a, b = old.get("cfg", {}).get(key, base), new.get("cfg", {}).get(key, base)
        if a != b:
            out.append(f"{key} {'(unset)' if a is missing else json.dumps(a)} -> {'(unset)' if b is missing else json.dumps(b)}")
    out += [f"{key} contents" for key in ("train_json", "val_json", "pretrained") if old.get(key) != new.get(key)]
    return out
