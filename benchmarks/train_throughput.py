"""Training throughput of the configured YOLOX model: images/s and peak memory per setting.

    python benchmarks/train_throughput.py [--model yolox_nano] [--input-size 256 448]
        [--batch 8] [--iters 10] [--warmup 3] [--device auto|cpu|cuda] [--threads 0]

One train step = nuscmot's own ``forward_loss`` + ``backward_step`` (the training loop's
code: YOLOX forward with its losses on random images with random boxes, SGD step), so the
figures are the loop's, minus data loading. Each row runs in a fresh subprocess so its
peak memory is its own (max RSS on CPU, ``torch.cuda.max_memory_allocated`` on CUDA).
Rows: on CPU batch 1 (reference) and batch N, fp32; on CUDA fp32 (reference) and AMP
(fp16 autocast + GradScaler, channels_last) at batch N. Ratios are against the reference
row of the same device, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def measure(row: dict) -> dict:
    import torch

    from nuscmot.detector.config import DetectorConfig
    from nuscmot.detector.exp import NuscExp
    from nuscmot.detector.trainer import backward_step, forward_loss

    if row["threads"]:
        torch.set_num_threads(row["threads"])
    device = torch.device(row["device"])
    torch.manual_seed(0)
    cfg = DetectorConfig(model=row["model"], input_size=tuple(row["input_size"]), multiscale_range=0,
                         warmup_epochs=0, basic_lr_per_img=0.01 / 64)
    exp = NuscExp(cfg)
    model = exp.get_model().to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer = exp.get_optimizer(row["batch"])
    scaler = torch.amp.GradScaler("cuda", enabled=row["amp"])
    h, w = cfg.input_size
    g = torch.Generator().manual_seed(0)
    n = row["batch"]
    imgs = torch.rand(n, 3, h, w, generator=g) * 255
    targets = torch.zeros(n, 120, 5)
    k = 8  # boxes per image: class, cx, cy, w, h
    targets[:, :k, 0] = torch.randint(0, 7, (n, k), generator=g).float()
    targets[:, :k, 3] = torch.rand(n, k, generator=g) * w / 4 + 8
    targets[:, :k, 4] = torch.rand(n, k, generator=g) * h / 4 + 8
    targets[:, :k, 1] = targets[:, :k, 3] / 2 + torch.rand(n, k, generator=g) * (w - targets[:, :k, 3])
    targets[:, :k, 2] = targets[:, :k, 4] / 2 + torch.rand(n, k, generator=g) * (h - targets[:, :k, 4])
    if device.type == "cuda":
        imgs, targets = imgs.pin_memory(), targets.pin_memory()
        torch.cuda.reset_peak_memory_stats(device)

    def step():
        out = forward_loss(model, exp, imgs, targets, (h, w), device, row["amp"])
        backward_step(out["total_loss"], optimizer, scaler)

    model.train()
    for _ in range(row["warmup"]):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(row["iters"]):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(device) / 2**20
        name = torch.cuda.get_device_name(device)
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        name = f"cpu x{torch.get_num_threads()} threads"
    return {**row, "images_per_s": n * row["iters"] / seconds, "ms_per_iter": 1000 * seconds / row["iters"],
            "peak_mb": peak_mb, "device_name": name}


def rows_for(args) -> list[dict]:
    import torch

    base = {"model": args.model, "input_size": args.input_size, "iters": args.iters, "warmup": args.warmup,
            "threads": args.threads}
    rows = []
    want_cpu = args.device in ("auto", "cpu")
    want_cuda = args.device in ("auto", "cuda") and torch.cuda.is_available()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda but CUDA is not available")
    if want_cpu:
        rows.append({**base, "device": "cpu", "batch": 1, "amp": False, "label": "cpu fp32 batch 1", "ref": True})
        if args.batch != 1:
            rows.append({**base, "device": "cpu", "batch": args.batch, "amp": False,
                         "label": f"cpu fp32 batch {args.batch}", "ref": False})
    if want_cuda:
        rows.append({**base, "device": "cuda", "batch": args.batch, "amp": False,
                     "label": f"cuda fp32 batch {args.batch}", "ref": True})
        rows.append({**base, "device": "cuda", "batch": args.batch, "amp": True,
                     "label": f"cuda AMP batch {args.batch}", "ref": False})
    return rows


def run_rows(script: str, rows: list[dict]) -> list[dict]:
    results = []
    for row in rows:
        proc = subprocess.run([sys.executable, script, "--row", json.dumps(row)], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"error: row {row['label']} failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return results


def table(results: list[dict], what: str) -> str:
    from tabulate import tabulate

    refs = {r["device"]: r for r in results if r["ref"]}
    body = []
    for r in results:
        ref = refs[r["device"]]
        body.append([r["label"] + (" (ref)" if r["ref"] else ""), r["device_name"], f"{r['images_per_s']:.1f}",
                     f"{r['ms_per_iter']:.1f}", f"{r['peak_mb']:.0f}",
                     f"{r['images_per_s'] / ref['images_per_s']:.2f}x", f"{r['peak_mb'] / ref['peak_mb']:.2f}x"])
    head = ["setting", "device", f"{what} img/s", "ms/iter", "peak MB", "speed vs ref", "memory vs ref"]
    return tabulate(body, headers=head, tablefmt="github")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="yolox_nano")
    p.add_argument("--input-size", type=int, nargs=2, default=[256, 448], metavar=("H", "W"))
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--row", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.row:
        print(json.dumps(measure(json.loads(args.row))))
        return
    results = run_rows(__file__, rows_for(args))
    print(f"train step, {args.model} at {args.input_size[0]}x{args.input_size[1]} (h x w), "
          f"{args.iters} timed iterations after {args.warmup} warmup")
    print(table(results, "train"))


if __name__ == "__main__":
    main()
