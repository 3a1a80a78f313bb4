"""Inference throughput of the configured YOLOX model: images/s and peak memory per setting.

    python benchmarks/infer_throughput.py [--model yolox_nano] [--input-size 256 448]
        [--batch 8] [--iters 20] [--warmup 3] [--device auto|cpu|cuda] [--threads 0]
        [--weights best_ckpt.pth]

One step = nuscmot's ``forward_postprocess`` (the ``infer`` stage's code: YOLOX forward,
decode, confidence filter and class-wise NMS) on a letterboxed batch already on the device;
image decoding is not included. With ``--weights`` a trained checkpoint is used (realistic
numbers of boxes reach NMS), else random weights. Each row runs in a fresh subprocess so
its peak memory is its own (max RSS on CPU, ``torch.cuda.max_memory_allocated`` on CUDA).
Rows: CPU fp32 batch 1 (reference) and batch N; CUDA fp32 (reference) and fp16 at batch N.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_throughput import run_rows, table  # noqa: E402  (same table/subprocess plumbing)


def measure(row: dict) -> dict:
    import torch

    from nuscmot.detector.checkpoint import build_model, load_model
    from nuscmot.detector.config import DetectorConfig, model_config
    from nuscmot.detector.predict import forward_postprocess, prepare_model

    if row["threads"]:
        torch.set_num_threads(row["threads"])
    device = torch.device(row["device"])
    torch.manual_seed(0)
    if row["weights"]:
        model, ckpt = load_model(row["weights"])
        mc = ckpt["model_config"]
    else:
        mc = model_config(DetectorConfig(model=row["model"], input_size=tuple(row["input_size"])))
        model = build_model(mc)
    model = prepare_model(model, device, half=row["amp"])
    h, w = mc["input_size"]
    n = row["batch"]
    imgs = torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(0)) * 255
    dtype = torch.float16 if row["amp"] else torch.float32
    if device.type == "cuda":
        imgs = imgs.pin_memory()
        torch.cuda.reset_peak_memory_stats(device)

    def step():
        batch = imgs.to(device, dtype=dtype, non_blocking=True)
        out = forward_postprocess(model, batch, int(mc["num_classes"]), 0.1, 0.65)
        return sum(0 if o is None else o.shape[0] for o in out)

    for _ in range(row["warmup"]):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    boxes = 0
    for _ in range(row["iters"]):
        boxes += step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(device) / 2**20
        name = torch.cuda.get_device_name(device)
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        name = f"cpu x{torch.get_num_threads()} threads"
    return {**row, "model": mc["model"], "input_size": [h, w], "images_per_s": n * row["iters"] / seconds, "ms_per_iter": 1000 * seconds / row["iters"],
            "peak_mb": peak_mb, "device_name": name, "boxes_per_image": boxes / (n * row["iters"])}


def rows_for(args) -> list[dict]:
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda but CUDA is not available")
    base = {"model": args.model, "input_size": args.input_size, "iters": args.iters, "warmup": args.warmup,
            "threads": args.threads, "weights": args.weights}
    rows = []
    if args.device in ("auto", "cpu"):
        rows.append({**base, "device": "cpu", "batch": 1, "amp": False, "label": "cpu fp32 batch 1", "ref": True})
        if args.batch != 1:
            rows.append({**base, "device": "cpu", "batch": args.batch, "amp": False,
                         "label": f"cpu fp32 batch {args.batch}", "ref": False})
    if args.device in ("auto", "cuda") and torch.cuda.is_available():
        rows.append({**base, "device": "cuda", "batch": args.batch, "amp": False,
                     "label": f"cuda fp32 batch {args.batch}", "ref": True})
        rows.append({**base, "device": "cuda", "batch": args.batch, "amp": True,
                     "label": f"cuda fp16 batch {args.batch}", "ref": False})
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="yolox_nano")
    p.add_argument("--input-size", type=int, nargs=2, default=[256, 448], metavar=("H", "W"))
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--weights", default="", help="a trained checkpoint (its model and input size win)")
    p.add_argument("--row", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.row:
        print(json.dumps(measure(json.loads(args.row))))
        return
    results = run_rows(__file__, rows_for(args))
    first = results[0]
    print(f"inference (forward + postprocess), {first['model']} at {first['input_size'][0]}x{first['input_size'][1]} "
          f"(h x w), "
          f"{args.iters} timed iterations after {args.warmup} warmup"
          + (f", weights {args.weights}" if args.weights else ", random weights"))
    print(table(results, "infer"))


if __name__ == "__main__":
    main()
