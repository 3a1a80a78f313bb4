"""Benchmark: the converter's vectorised 2D boxes vs the devkit's per-box export script.

Both compute, for every camera keyframe of the chosen scenes and every annotation of a
mapped class, the 2D box of the projected 3D box clipped to the image:

- nuscmot: ``nuscmot.data.convert.extract_images`` (all boxes of a sample_data at once,
  numpy; includes the image-existence check and record look-ups),
- reference: ``tests/support/reference.py: devkit_boxes_2d``, i.e. the devkit's
  ``export_2d_annotations_as_json.get_2d_boxes`` loop (``nusc.get_box``, ``Box`` moves,
  ``view_points``, shapely ``post_process_coords``), one annotation at a time.

Checks that both keep the same boxes (area > 0) within 0.5 px and prints times and ratio.

    python benchmarks/convert.py [--dataroot /tmp/synth-demo/nuscenes-synth] [--version v1.0-synth]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from nuscmot.common.config import from_dict
from nuscmot.data.classes import build_category_lookup
from nuscmot.data.convert import ConvertConfig, SceneJob, extract_images, load_nuscenes, scene_keyframes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' reference implementations (not part of the package)
from support.reference import devkit_boxes_2d  # noqa: E402


def reference_boxes(nusc, jobs, lookup) -> tuple[dict, int]:
    """{(sample_data_token, annotation_token): xyxy} of boxes with positive area, per the devkit loop."""
    out = {}
    n_images = 0
    for job in jobs:
        for sample in scene_keyframes(nusc, job.scene):
            anns = [t for t in sample["anns"] if nusc.get("sample_annotation", t)["category_name"] in lookup]
            for cam in job.cameras:
                sd_token = sample["data"][cam]
                n_images += 1
                for ann, box in devkit_boxes_2d(nusc, sd_token, anns).items():
                    if box is not None and box[2] > box[0] and box[3] > box[1]:
                        out[(sd_token, ann)] = np.asarray(box, dtype=np.float64)
    return out, n_images


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataroot", default="/tmp/synth-demo/nuscenes-synth")
    p.add_argument("--version", default="v1.0-synth")
    p.add_argument("--config", default=str(ROOT / "config.yaml"), help="reads its `convert` slice")
    p.add_argument("--max-scenes", type=int, default=0, help="0 = all scenes")
    args = p.parse_args()

    cfg = from_dict(ConvertConfig, yaml.safe_load(Path(args.config).read_text())["convert"], where="convert")
    t0 = time.perf_counter()
    nusc = load_nuscenes(args.dataroot, args.version)
    t_load = time.perf_counter() - t0
    lookup = build_category_lookup(cfg.classes, cfg.category_map, cfg.include_construction, (c["name"] for c in nusc.category))
    scenes = sorted(nusc.scene, key=lambda s: s["name"])
    if args.max_scenes:
        scenes = scenes[: args.max_scenes]
    cams = tuple(sorted(cfg.cameras))
    jobs = [SceneJob(s, cams) for s in scenes]

    t0 = time.perf_counter()
    images = extract_images(nusc, jobs, lookup, 0.0, dataroot=Path(args.dataroot), version=args.version)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref, n_ref_images = reference_boxes(nusc, jobs, lookup)
    t_ref = time.perf_counter() - t0

    ours = {(im.sample_data_token, tok): im.xyxy[k] for im in images for k, tok in enumerate(im.annotation_tokens)}
    only_ours, only_ref = sorted(set(ours) - set(ref)), sorted(set(ref) - set(ours))
    common = sorted(set(ours) & set(ref))
    diff = max((float(np.abs(ours[k] - ref[k]).max()) for k in common), default=0.0)
    ok = not only_ours and not only_ref and diff <= 0.5 and len(images) == n_ref_images

    n_boxes = len(ours)
    print(f"dataset: {args.dataroot} ({args.version}), {len(scenes)} scenes, {len(cams)} cameras, "
          f"{len(images)} images, {n_boxes} boxes (tables loaded in {t_load:.1f} s)")
    print(f"agreement: {len(common)} common boxes, max |diff| {diff:.2e} px, "
          f"only nuscmot {len(only_ours)}, only reference {len(only_ref)} -> {'OK' if ok else 'MISMATCH'}")
    print()
    print(f"| {'method':<40} | {'time s':>8} | {'ms / image':>10} | {'us / box':>8} | {'speed-up':>8} |")
    print(f"|{'-' * 42}|{'-' * 10}|{'-' * 12}|{'-' * 10}|{'-' * 10}|")
    for name, t in (("devkit per-box (shapely) reference", t_ref), ("nuscmot vectorised (numpy)", t_ours)):
        print(f"| {name:<40} | {t:8.3f} | {1e3 * t / max(len(images), 1):10.3f} | "
              f"{1e6 * t / max(n_boxes, 1):8.1f} | {t_ref / t:7.1f}x |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
