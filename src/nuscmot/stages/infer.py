"""Run the trained detector on every test sequence; one MOT det file per sequence.

    python -m nuscmot.stages.infer --params '<infer slice json>' --weights best_ckpt.pth \
        --mot-dir results/mot/test --seqmap results/mot/seqmaps/test.txt \
        --image-root DATAROOT --out-dir results/detections --timing infer_timing.json

Frames are read in ``img1.txt`` order, batched through a DataLoader (workers decode),
letterboxed like YOLOX's ``ValTransform``; boxes are mapped back to the original image.
Output ``<out-dir>/<seq>.txt``: ``frame,-1,x,y,w,h,score,class,-1,-1`` (1-based frames,
class 1..7), the folder written atomically. fp16 only on CUDA (``fp16: true``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.detector.config import InferConfig, infer_config

SLICES = {"infer": InferConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("weights", "mot-dir", "seqmap", "image-root", "out-dir", "timing"):
        p.add_argument(f"--{name}", required=True, type=Path)
    args = p.parse_args(argv)
    cfg = infer_config(cli.load_params(args.params))

    from nuscmot.detector.infer import infer

    infer(cfg, args.weights, args.mot_dir, args.seqmap, args.image_root, args.out_dir, args.timing)


if __name__ == "__main__":
    cli.run(main)
