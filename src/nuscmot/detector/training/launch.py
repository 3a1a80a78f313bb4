"""Multi-GPU launch of ``python -m nuscmot.stages.train --nproc N``: the command re-executes
itself under torchrun (one DDP process per GPU on this node). Torch-free."""

from __future__ import annotations

import os
import sys
from typing import Mapping, Sequence

STAGE = "nuscmot.stages.train"


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
    """The command that runs ``python -m nuscmot.stages.train argv`` (less ``--nproc``) as ``nproc``
    DDP processes on this node (``torch.distributed.run`` is torchrun's module;
    ``--standalone`` picks a free rendezvous port, so two trainings on one node do not collide)."""
    return [python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
            "-m", STAGE, *without_nproc(argv)]


def needs_launch(nproc: int, env: Mapping[str, str]) -> bool:
    """True when ``nproc`` processes are wanted and this is not already one of torchrun's."""
    return nproc > 1 and "LOCAL_RANK" not in env


def relaunch_if_needed(nproc: int, argv: Sequence[str]) -> None:
    """Replace this process by ``nproc`` torchrun processes when wanted (never returns then);
    otherwise return. torchrun replaces the process, so Snakemake's signals reach it."""
    if needs_launch(nproc, os.environ):
        cmd = torchrun_command(nproc, argv)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(cmd[0], cmd)
