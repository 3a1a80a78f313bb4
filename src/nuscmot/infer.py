"""Run the trained detector on every test sequence; one MOT det file per sequence.

    python -m nuscmot.infer --params '<infer slice json>' --weights best_ckpt.pth \
        --mot-dir results/mot/test --seqmap results/mot/seqmaps/test.txt \
        --image-root DATAROOT --out-dir results/detections --timing infer_timing.json

Frames are read in ``img1.txt`` order, batched through a DataLoader (workers decode),
letterboxed like YOLOX's ``ValTransform``; boxes are mapped back to the original image.
Output ``<out-dir>/<seq>.txt``: ``frame,-1,x,y,w,h,score,class,-1,-1`` (1-based frames,
class 1..7), the folder written atomically. fp16 only on CUDA (``fp16: true``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from nuscmot.common import cli


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("weights", "mot-dir", "seqmap", "image-root", "out-dir", "timing"):
        p.add_argument(f"--{name}", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)

    import numpy as np
    import torch

    from nuscmot.common.errors import InputError
    from nuscmot.common.io import atomic_dir, write_json
    from nuscmot.common.mot import read_image_list, read_seqinfo, read_seqmap, write_mot
    from nuscmot.detector.checkpoint import load_model
    from nuscmot.common.device import resolve_device
    from nuscmot.detector.config import infer_config, set_cpu_threads
    from nuscmot.detector.data import check_images_exist
    from nuscmot.detector.predict import detect_files, prepare_model

    cfg = infer_config(params)
    set_cpu_threads(cfg.threads)
    device = resolve_device(cfg.device, "--params")
    names = read_seqmap(args.seqmap)
    files: list[Path] = []
    owner: list[tuple[int, int]] = []  # (sequence index, 1-based frame) per file
    for s, name in enumerate(names):
        seq_dir = args.mot_dir / name
        info = read_seqinfo(seq_dir / "seqinfo.ini")
        images = read_image_list(seq_dir / "img1.txt")
        if len(images) != info.length:
            raise InputError(seq_dir / "img1.txt", f"{len(images)} images but seqinfo.ini says seqLength={info.length}")
        paths = [args.image_root / img for img in images]
        check_images_exist(paths, seq_dir / "img1.txt")
        files += paths
        owner += [(s, f) for f in range(1, len(paths) + 1)]

    model, ckpt = load_model(args.weights, cfg.num_classes)
    mc = ckpt["model_config"]
    half = cfg.fp16 and device.type == "cuda"
    model = prepare_model(model, device, half=half)
    rows: list[list[list[float]]] = [[] for _ in names]
    t0 = time.perf_counter()
    for det in detect_files(model, files, input_size=tuple(mc["input_size"]), num_classes=cfg.num_classes,
                            conf_threshold=cfg.conf_threshold, nms_threshold=cfg.nms_threshold,
                            batch_size=cfg.batch_size, workers=cfg.workers, device=device, half=half,
                            progress="infer"):
        s, frame = owner[det.index]
        for (x1, y1, x2, y2), score, cls in zip(det.boxes, det.scores, det.classes):
            rows[s].append([frame, -1, x1, y1, x2 - x1, y2 - y1, score, int(cls) + 1, -1, -1])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0

    with atomic_dir(args.out_dir) as tmp:
        for name, seq_rows in zip(names, rows):
            write_mot(tmp / f"{name}.txt", np.asarray(seq_rows, dtype=np.float64).reshape(-1, 10), "det")
    write_json(args.timing, {
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
    })


if __name__ == "__main__":
    cli.run(main)
