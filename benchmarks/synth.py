"""Synthetic dataset generator: CPU cost per image, by stage, on one demo-sized scene.

    python benchmarks/synth.py [--frames 12] [--width 800 --height 450] [--scene 7]

Prints ms of CPU per camera image (best of 3 passes) for the background (road, sky),
the objects (painter's algorithm, id buffer, visibility), the camera finish (blur,
noise) and JPEG encoding, with ratios against JPEG encoding of the same images, the
floor any image generator pays. The per-scene setup (world, traffic simulation) is
reported once. Multiply by images / workers for a dataset estimate.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import nuscmot.synthetic.scene as scene_mod
from nuscmot.synthetic import synth_config
from nuscmot.synthetic.calibration import CHANNELS


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=12)
    p.add_argument("--width", type=int, default=800)
    p.add_argument("--height", type=int, default=450)
    p.add_argument("--scene", type=int, default=7, help="scene index (its seed stream)")
    args = p.parse_args()
    cfg = synth_config({"frames_per_scene": 40, "image_width": args.width, "image_height": args.height})
    root = Path(tempfile.mkdtemp(prefix="synth-bench-"))
    try:
        for channel in CHANNELS:
            (root / "samples" / channel).mkdir(parents=True)
        (root / "maps").mkdir()
        t0 = time.process_time()
        builder = scene_mod.SceneBuilder(scene_mod.SceneJob(cfg, args.scene, f"scene-{args.scene + 1:04d}", root))
        setup = time.process_time() - t0
        spent: dict[str, float] = defaultdict(float)

        def timed(obj, name, label):
            fn = getattr(obj, name)

            def wrapper(*a, **k):
                t = time.process_time()
                out = fn(*a, **k)
                spent[label] += time.process_time() - t
                return out

            setattr(obj, name, wrapper)

        timed(scene_mod, "render_camera", "objects")
        timed(builder.background, "render", "background")
        timed(scene_mod, "_finish", "finish")
        timed(scene_mod.cv2, "imencode", "jpeg")
        keys = [int(k) for k in range(0, 40, max(1, 40 // args.frames))][: args.frames]
        best: dict[str, float] = defaultdict(lambda: float("inf"))
        for _ in range(3):
            spent.clear()
            t = time.process_time()
            for k in keys:
                builder.background._cache.clear()
                builder.keyframe(k)
            spent["total"] = time.process_time() - t
            for label, value in spent.items():
                best[label] = min(best[label], value * 1000 / (len(keys) * len(CHANNELS)))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ref = best["jpeg"]
    print(f"scene setup (world, traffic, looks): {setup:.2f} s CPU")
    print(f"{'stage':<12}{'ms/image':>10}{'x jpeg':>9}")
    for label in ("background", "objects", "finish", "jpeg", "total"):
        print(f"{label:<12}{best[label]:>10.1f}{best[label] / ref:>9.1f}")


if __name__ == "__main__":
    main()
