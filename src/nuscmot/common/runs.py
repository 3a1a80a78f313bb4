"""Names of the runs the workflow compares: one per detection source (and degradation draw)
and one per motion model (and training seed).

A deterministic motion model runs once and is named after itself (``kalman``); a learned one
(``learned`` in the motion-model registry, :mod:`nuscmot.tracking.models`, which the caller
passes in) runs once per training seed (``trackssm-s0``, ``trackssm-s1``, ...). A detection source made
once is named after itself (``finetuned``); a randomly degraded one (kind ``gt``) once per
draw (``gt-d0``, ``gt-d1``, ...). The names are folder names under ``results/`` and Snakemake wildcard values;
everything that needs the model, seed, source or draw parses them here.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

_RUN = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)(?:-(?P<tag>[sd])(?P<n>\d+))?$")


def tracker_runs(trackers: Iterable[str], seeds: Sequence[int], learned: Iterable[str]) -> list[str]:
    """Run names of ``trackers``: one per seed for a learned model (one in ``learned``), else
    the model's name."""
    learned = set(learned)
    return [f"{t}-s{s}" if t in learned else t for t in trackers for s in (seeds if t in learned else [None])]


def source_runs(sources: Iterable[str], draws: Sequence[int], drawn: Iterable[str]) -> list[str]:
    """Run names of ``sources``: one per draw for a drawn source (one in ``drawn``: GT-derived
    detections), else the source's name."""
    drawn = set(drawn)
    return [f"{s}-d{d}" if s in drawn else s for s in sources for d in (draws if s in drawn else [None])]


def _parse(run: str, tag: str) -> tuple[str, int | None]:
    m = _RUN.match(run)
    if m is None or (m["tag"] is not None and m["tag"] != tag):
        raise ValueError(f"not a run name: {run!r}")
    return m["name"], None if m["n"] is None else int(m["n"])


def parse_tracker_run(run: str) -> tuple[str, int | None]:
    """``trackssm-s2`` -> (``trackssm``, 2); ``kalman`` -> (``kalman``, None)."""
    return _parse(run, "s")


def parse_source_run(run: str) -> tuple[str, int | None]:
    """``gt-d1`` -> (``gt``, 1); ``finetuned`` -> (``finetuned``, None)."""
    return _parse(run, "d")


def run_regex(runs: Iterable[str]) -> str:
    """A wildcard constraint matching exactly ``runs``."""
    return "|".join(re.escape(r) for r in runs) or "(?!)"
