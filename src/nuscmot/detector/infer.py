"""``infer``: the trained detector on every frame of the test sequences, one MOT detection
file per sequence (``frame, -1, x, y, w, h, score, class, -1, -1``; class 1-based), plus the
throughput (images/s, device) of the detection pass alone."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nuscmot.common.device import resolve_device
from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, write_json
from nuscmot.common.sources import DetectionSource
from nuscmot.common.mot import read_image_list, read_seqinfo, read_seqmap, write_mot
from nuscmot.detector.checkpoint import load_model
from nuscmot.detector.config import InferConfig, set_cpu_threads
from nuscmot.detector.data import check_images_exist
from nuscmot.detector.predict import detect_files, prepare_model


def sequence_frames(mot_dir: Path, names: list[str], image_root: Path) -> tuple[list[Path], list[tuple[int, int]]]:
    """Every frame's image file and its (sequence index, 1-based frame), in sequence order."""
    files: list[Path] = []
    owner: list[tuple[int, int]] = []
    for s, name in enumerate(names):
        seq_dir = mot_dir / name
        info = read_seqinfo(seq_dir / "seqinfo.ini")
        images = read_image_list(seq_dir / "img1.txt")
        if len(images) != info.length:
            raise InputError(seq_dir / "img1.txt", f"{len(images)} images but seqinfo.ini says seqLength={info.length}")
        paths = [image_root / img for img in images]
        check_images_exist(paths, seq_dir / "img1.txt")
        files += paths
        owner += [(s, f) for f in range(1, len(paths) + 1)]
    return files, owner


def load_detector(cfg: InferConfig, weights: Path, source: DetectionSource | None):
    """(model, model_config, head class -> our 1-based class): an exported checkpoint of
    ``num_classes`` without a source, else the source's checkpoint (:mod:`.source_model`)."""
    if source is None:
        model, ckpt = load_model(weights, cfg.num_classes)
        return model, ckpt["model_config"], np.arange(1, cfg.num_classes + 1, dtype=np.int64)
    from nuscmot.detector.source_model import load_source_model

    return load_source_model(weights, source, cfg.num_classes)


def infer(cfg: InferConfig, weights: Path, mot_dir: Path, seqmap: Path, image_root: Path, out_dir: Path,
          timing: Path, source: DetectionSource | None = None) -> dict[str, Any]:
    """Detect every frame of the seqmap's sequences; write ``<out_dir>/<seq>.txt`` and the
    timing JSON; return the timing. ``source``: a checkpoint source's digest, model and class map."""
    set_cpu_threads(cfg.threads)
    device = resolve_device(cfg.device, "--params")
    names = read_seqmap(seqmap)
    files, owner = sequence_frames(mot_dir, names, image_root)
    model, mc, lookup = load_detector(cfg, weights, source)
    half = cfg.fp16 and device.type == "cuda"
    model = prepare_model(model, device, half=half)
    rows: list[list[list[float]]] = [[] for _ in names]
    t0 = time.perf_counter()
    for det in detect_files(model, files, input_size=tuple(mc["input_size"]), num_classes=len(lookup),
                            conf_threshold=cfg.conf_threshold, nms_threshold=cfg.nms_threshold,
                            batch_size=cfg.batch_size, workers=cfg.workers, device=device, half=half,
                            progress="infer"):
        s, frame = owner[det.index]
        for (x1, y1, x2, y2), score, cls in zip(det.boxes, det.scores, lookup[det.classes]):
            if cls:  # 0: a head class mapped to none of ours (class_map)
                rows[s].append([frame, -1, x1, y1, x2 - x1, y2 - y1, score, int(cls), -1, -1])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0
    with atomic_dir(out_dir) as tmp:
        for name, seq_rows in zip(names, rows):
            write_mot(tmp / f"{name}.txt", np.asarray(seq_rows, dtype=np.float64).reshape(-1, 10), "det")
    report = {
        "images": len(files),
        "sequences": len(names),
        "detections": int(sum(len(r) for r in rows)),
        "seconds": round(seconds, 3),
        "images_per_s": round(len(files) / max(seconds, 1e-9), 2),
        "device": device.type,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "batch_size": cfg.batch_size,
        "workers": cfg.workers,
        "fp16": half,
        "model": mc["model"],
        "input_size": list(mc["input_size"]),
    }
    if source is not None:
        report["source"] = {**source.record, "head_classes": len(lookup)}
    write_json(timing, report)
    return report
