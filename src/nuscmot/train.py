"""Train the YOLOX detector on the COCO train split, two phases, resumable.

    python -m nuscmot.train --params '<detector slice json>' --train-json F --val-json F \
        --image-root DATAROOT --state-dir DIR --runs-dir DIR --best F --latest F \
        --train-log F --config-out F [--nproc N]

``--nproc N`` with N > 1 re-launches this entry point under ``torchrun --standalone
--nproc_per_node N`` (DDP, one process per GPU; only rank 0 writes); the ``train`` rule
passes its ``resources.gpu`` here. Running it under torchrun yourself works the same.
The resumable state lives in ``--state-dir``: rerunning continues from the last finished
epoch; delete that folder to force a fresh run. See :mod:`nuscmot.detector.trainer`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping, Sequence

from nuscmot.common import cli


def without_nproc(argv: Sequence[str]) -> list[str]:
    """``argv`` less ``--nproc N`` / ``--nproc=N``: torchrun's own parser would take
    ``--nproc`` for an ambiguous abbreviation of its ``--nproc-per-node``/``--nproc_per_node``."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def torchrun_command(nproc: int, argv: Sequence[str], python: str = sys.executable) -> list[str]:
    """The command that runs ``python -m nuscmot.train argv`` (less ``--nproc``) as ``nproc``
    DDP processes on this node (``torch.distributed.run`` is torchrun's module;
    ``--standalone`` picks a free rendezvous port, so two trainings on one node do not collide)."""
    return [python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
            "-m", "nuscmot.train", *without_nproc(argv)]


def needs_launch(nproc: int, env: Mapping[str, str]) -> bool:
    """True when ``nproc`` processes are wanted and this is not already one of torchrun's."""
    return nproc > 1 and "LOCAL_RANK" not in env


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = cli.parser(__doc__.splitlines()[0])
    for name in ("train-json", "val-json", "image-root", "state-dir", "runs-dir", "best", "latest",
                 "train-log", "config-out"):
        p.add_argument(f"--{name}", required=True, type=Path)
    p.add_argument("--nproc", type=int, default=1,
                   help="DDP processes (GPUs) on this node; > 1 re-launches under torchrun")
    args = p.parse_args(argv)
    if args.nproc < 1:
        p.error(f"--nproc must be at least 1, got {args.nproc}")
    if needs_launch(args.nproc, os.environ):
        cmd = torchrun_command(args.nproc, argv)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(cmd[0], cmd)  # torchrun replaces this process: Snakemake's signals reach it
    params = cli.load_params(args.params)

    from nuscmot.detector.config import detector_config
    from nuscmot.detector.trainer import TrainPaths, train

    cfg = detector_config(params)
    paths = TrainPaths(args.train_json, args.val_json, args.image_root, args.state_dir, args.runs_dir,
                       args.best, args.latest, args.train_log, args.config_out)
    train(cfg, paths)


if __name__ == "__main__":
    cli.run(main)
