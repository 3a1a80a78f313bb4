"""Run the trained detector on every test sequence; one MOT det file per sequence.

    python -m nuscmot.stages.infer --params '<infer slice json>' --weights best_ckpt.pth \
        --mot-dir results/mot/test --seqmap results/mot/seqmaps/test.txt \
        --image-root DATAROOT --out-dir results/detections --timing infer_timing.json \
        [--source '<one entry of the detections slice, JSON>']

``--source`` (a ``checkpoint`` source, :mod:`nuscmot.common.sources`): its ``sha256`` is checked
before loading; a checkpoint without ``model_config`` is built from its ``model`` and
``input_size``; ``class_map: coco`` maps an 80-class COCO head to our classes (the rest dropped).
The timing JSON records the source (kind, checkpoint, class_map).

Frames are read in ``img1.txt`` order, batched through a DataLoader (workers decode),
letterboxed like YOLOX's ``ValTransform``; boxes are mapped back to the original image.
Output ``<out-dir>/<seq>.txt``: ``frame,-1,x,y,w,h,score,class,-1,-1`` (1-based frames,
class 1..7), the folder written atomically. fp16 only on CUDA (``fp16: true``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.errors import InputError
from nuscmot.common.sources import source_from_json
from nuscmot.detector.config import InferConfig, infer_config

SLICES = {"infer": InferConfig}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("weights", "mot-dir", "seqmap", "image-root", "out-dir", "timing"):
        p.add_argument(f"--{name}", required=True, type=Path)
    p.add_argument("--source", default=None, help="a checkpoint detection source, as JSON")
    args = p.parse_args(argv)
    cfg = infer_config(cli.load_params(args.params))
    source = None if args.source is None else source_from_json(args.source, "--source")
    if source is not None and source.kind != "checkpoint":
        raise InputError("--source", f"infer runs a checkpoint source, got kind {source.kind}")

    from nuscmot.detector.infer import infer

    infer(cfg, args.weights, args.mot_dir, args.seqmap, args.image_root, args.out_dir, args.timing, source)


if __name__ == "__main__":
    cli.run(main)
