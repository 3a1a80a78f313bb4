"""The switch gallery of the reference runs: strips of crops around identity switches and an
animation of the sequence with the largest IDSW difference (:mod:`nuscmot.report.gallery`).

    python -m nuscmot.stages.gallery --params '{"sources": {"<source run>": {"<tracker run>": DIR, ...}},
        "switches": {"<source run>": DIR}}' --mot-dir DIR --seqmap F --dataroot DIR --out-dir DIR --gif F

``sources``: per reference detection source, the two reference tracker runs' results folders
(the baseline first); ``switches``: each source's ``switches`` folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from nuscmot.common import cli
from nuscmot.common.errors import InputError
from nuscmot.common.mot import read_seqmap

SLICES: dict[str, type] = {}


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser("The switch gallery: crops around identity switches and one animated sequence.")
    for name in ("mot-dir", "seqmap", "dataroot", "out-dir", "gif"):
        p.add_argument(f"--{name}", required=True, type=Path)
    args = p.parse_args(argv)
    params = cli.load_params(args.params)
    if set(params) != {"sources", "switches"} or not params["sources"]:
        raise InputError("--params", "expected {\"sources\": {...}, \"switches\": {...}} with at least one source")
    sources = {s: {r: Path(d) for r, d in runs.items()} for s, runs in params["sources"].items()}
    switches = {s: Path(d) for s, d in params["switches"].items()}

    from nuscmot.report.gallery import write_gallery

    write_gallery(sources, switches, args.mot_dir, read_seqmap(args.seqmap), args.dataroot, args.out_dir, args.gif)


if __name__ == "__main__":
    cli.run(main)
