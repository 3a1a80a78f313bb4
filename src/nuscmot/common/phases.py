"""Phase timing for long stages: one log line per phase with its wall time and the peak RSS so far.

    phases = PhaseLog("convert")
    ...             # load
    phases.done("load")

Lines read ``convert phase load: 59.1 s, peak RSS 8.21 GB, RSS now 7.90 GB``
(``benchmarks/convert_scale.py`` parses them); ``summary()`` gives the same figures as a dict.
"""

from __future__ import annotations

import logging
import resource
import time
from pathlib import Path

log = logging.getLogger(__name__)
PHASE_LINE = (r"(?P<stage>\w+) phase (?P<phase>\w+): (?P<seconds>[\d.]+) s, peak RSS (?P<gb>[\d.]+) GB"
              r", RSS now (?P<now>[\d.]+) GB")


def peak_rss_gb() -> float:
    """This process's peak resident set size so far, GB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def rss_gb() -> float:
    """This process's resident set size now, GB (Linux /proc; 0 where it is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * resource.getpagesize() / 1e9


class PhaseLog:
    """Times consecutive phases of one stage."""

    def __init__(self, stage: str):
        self.stage = stage
        self.start = self.last = time.perf_counter()
        self.phases: dict[str, dict[str, float]] = {}

    def done(self, phase: str) -> None:
        now = time.perf_counter()
        seconds, peak, current = now - self.last, peak_rss_gb(), rss_gb()
        self.last = now
        before = self.phases.get(phase, {}).get("seconds", 0.0)  # a repeated phase adds up
        self.phases[phase] = {"seconds": round(before + seconds, 2), "peak_rss_gb": round(peak, 3),
                              "rss_gb": round(current, 3)}
        log.info("%s phase %s: %.1f s, peak RSS %.2f GB, RSS now %.2f GB", self.stage, phase, seconds, peak, current)

    def summary(self) -> dict[str, dict[str, float]]:
        return dict(self.phases)
