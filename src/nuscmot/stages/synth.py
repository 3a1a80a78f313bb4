"""``python -m nuscmot.stages.synth``: generate the synthetic nuScenes-format dataset.

    python -m nuscmot.stages.synth --params '{"cfg": {<synth slice>}, "version": "v1.0-synth"}' --dataroot DIR

The whole dataroot is built under a temporary name and swapped into place at the end, so
an interrupted run leaves nothing half-made. Bad parameters exit with status 2 and one line.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.errors import InputError
from nuscmot.synthetic import generate, synth_config
from nuscmot.synthetic.config import SynthConfig

_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
log = logging.getLogger(__name__)
SLICES = {"synth": SynthConfig}  # (also pretrain.synth, the pretraining world)


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--dataroot", required=True, help="output folder (replaced atomically)")
    p.add_argument("--workers", type=int, default=None, help="scene processes (default: up to 2)")
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    unknown = sorted(set(params) - {"cfg", "version"})
    if unknown:
        raise InputError("--params", f"unknown key(s) {', '.join(unknown)}; expected cfg and version")
    version = params.get("version", "v1.0-synth")
    if not isinstance(version, str) or not _VERSION.match(version):
        raise InputError("--params", f"version must be a folder name like v1.0-synth, got {version!r}", key="version")
    cfg = synth_config(params.get("cfg"))
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", f"must be >= 1, got {args.workers}")
    t0 = time.perf_counter()
    generate(cfg, version, args.dataroot, workers=args.workers)
    log.info("synthetic dataset ready in %.1f s", time.perf_counter() - t0)


if __name__ == "__main__":
    cli.run(main)
