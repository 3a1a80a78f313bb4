"""The tracking runs ``compare_idsw`` compares: one per (source, draw, tracker, seed).

``draw`` is the GT-degradation seed of a GT-derived source (None for a source with one set of
detections), ``seed`` a trained tracker's training seed (None for a deterministic one). Within a
source every tracker must cover the same draws, and a tracker the same seeds on every draw.
:func:`paired_data` turns the runs' metrics JSONs into one metric's
:class:`~nuscmot.evaluation.stats.PairedData`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.common.cli import json_arg
from nuscmot.common.errors import InputError
from nuscmot.evaluation.stats import PairedData

FIELDS = ("source", "draw", "tracker", "seed", "metrics", "results", "dets")
# metric -> (weight columns of a sequence: overall = sum(value * w) / sum(w); () = summed count, lower is better)
METRIC_WEIGHTS = {
    "IDSW": ((), True),
    "MOTA": (("num_objects",), False),
    "IDF1": (("num_objects", "num_predictions"), False),
    "HOTA": (("num_objects",), False),
}
WEIGHTING_NOTE = ("IDSW: difference of totals (sum over sequences); MOTA and IDF1: exact overall values "
                  "(per-sequence values weighted by GT boxes, and by GT + predicted boxes); HOTA: per-sequence "
                  "HOTA weighted by GT boxes (an approximation of TrackEval's combined HOTA)")


@dataclass(frozen=True)
class Run:
    """One tracking run and what ``compare_idsw`` reads of it."""

    source: str
    draw: int | None
    tracker: str
    seed: int | None
    metrics: Path
    results: Path
    dets: Path

    @property
    def key(self) -> tuple:
        return self.draw, self.seed


def _optional_int(value: Any, flag: str, i: int, name: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise InputError(flag, f"run {i}: {name} must be an integer or null, got {value!r}")


def parse_runs(text: str | None, flag: str = "--runs") -> list[Run]:
    """The runs of a ``--runs`` JSON list (each with :data:`FIELDS`); [] for None."""
    if text is None:
        return []
    items = json_arg(text, flag)
    if not isinstance(items, list):
        raise InputError(flag, "must be a JSON list of runs")
    runs = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != set(FIELDS):
            got = sorted(item) if isinstance(item, dict) else type(item).__name__
            raise InputError(flag, f"run {i}: needs exactly the keys {', '.join(FIELDS)}, got {got}")
        for key in ("source", "tracker", "metrics", "results", "dets"):
            if not isinstance(item[key], str) or not item[key]:
                raise InputError(flag, f"run {i}: {key} must be a non-empty string")
        runs.append(Run(item["source"], _optional_int(item["draw"], flag, i, "draw"), item["tracker"],
                        _optional_int(item["seed"], flag, i, "seed"), Path(item["metrics"]), Path(item["results"]),
                        Path(item["dets"])))
    seen = [(r.source, r.draw, r.tracker, r.seed) for r in runs]
    dup = next((k for k in seen if seen.count(k) > 1), None)
    if dup:
        raise InputError(flag, f"run (source {dup[0]}, draw {dup[1]}, tracker {dup[2]}, seed {dup[3]}) given twice")
    return runs


def _sorted(values) -> list:
    return sorted(set(values), key=lambda v: (v is not None, v if v is not None else 0))


@dataclass(frozen=True)
class SourceRuns:
    """One source's runs: ``runs[tracker][(draw, seed)]``, the draws, each tracker's seeds."""

    source: str
    trackers: list[str]
    draws: list
    seeds: dict[str, list]
    runs: dict[str, dict[tuple, Run]]

    def first(self, tracker: str) -> Run:
        """The run of the first draw and first seed."""
        return self.runs[tracker][(self.draws[0], self.seeds[tracker][0])]

    def dets(self) -> dict:
        """Detections folder per draw."""
        return {d: next(r.dets for r in self.runs[self.trackers[0]].values() if r.draw == d) for d in self.draws}


def group_runs(runs: Sequence[Run], flag: str = "--runs") -> list[SourceRuns]:
    """The runs per source (first-seen order), checked to form a full grid of draws and seeds."""
    out = []
    for source in dict.fromkeys(r.source for r in runs):
        mine = [r for r in runs if r.source == source]
        trackers = list(dict.fromkeys(r.tracker for r in mine))
        draws = _sorted(r.draw for r in mine)
        grid: dict[str, dict[tuple, Run]] = {t: {r.key: r for r in mine if r.tracker == t} for t in trackers}
        seeds = {t: _sorted(s for _, s in grid[t]) for t in trackers}
        for t in trackers:
            missing = [(d, s) for d in draws for s in seeds[t] if (d, s) not in grid[t]]
            if missing:
                raise InputError(flag, f"{source}: tracker {t} lacks the run of draw {missing[0][0]}, seed "
                                       f"{missing[0][1]} (every tracker needs every draw, and each of its seeds on every draw)")
        out.append(SourceRuns(source, trackers, draws, seeds, grid))
    return out


def _num_den(row: Mapping[str, Any], metric: str) -> tuple[float, float]:
    weights, _ = METRIC_WEIGHTS[metric]
    value = row.get(metric)
    if not weights:
        return float(value or 0), 1.0
    w = float(sum(row.get(c) or 0 for c in weights))
    return (float(value) * w, w) if value is not None and w > 0 else (0.0, 0.0)


def _grid(docs: Mapping[tuple, Mapping], draws: list, seeds: list, names: Sequence[str], metric: str, part):
    arr = np.zeros((len(draws), len(seeds), len(names), 2))
    for i, d in enumerate(draws):
        for j, s in enumerate(seeds):
            rows = part(docs[(d, s)])
            arr[i, j] = [_num_den(rows[n], metric) for n in names]
    return arr


def paired_data(src: SourceRuns, docs: Mapping[str, Mapping[tuple, Mapping]], tracker: str, baseline: str,
                names: Sequence[str], metric: str, part=lambda doc: doc["sequences"]) -> PairedData:
    """One metric of ``tracker`` against ``baseline`` (averaged over its seeds per draw) from the
    metrics JSONs ``docs[tracker][(draw, seed)]``; ``part(doc)``: the per-sequence rows to read
    (default the overall evaluation's, or a class's)."""
    t = _grid(docs[tracker], src.draws, src.seeds[tracker], names, metric, part)
    b = _grid(docs[baseline], src.draws, src.seeds[baseline], names, metric, part).mean(axis=1)
    weights, lower = METRIC_WEIGHTS[metric]
    dens = (t[..., 1], b[..., 1]) if weights else (None, None)
    return PairedData(t[..., 0], b[..., 0], dens[0], dens[1], lower_is_better=lower,
                      seeds=tuple(src.seeds[tracker]), draws=tuple(src.draws))
