"""The identity switches themselves: one row per motmetrics SWITCH event of a tracker run.

Per switch: the sequence and frame, the GT id with its class, nuScenes instance token
(``gt/instances.csv`` written by ``convert``) and visibility level in that frame, the track id
it had (its most recent match, the one motmetrics continues from) and the new one, the frames
since that match, and whether the other tracker switched on the same object within
:data:`NEAR_FRAMES` frames. The other tracker of a compared model is the baseline; the
baseline's is the first run of the first other model (the reference TrackSSM seed).

Switches are re-evaluated with the same :func:`~nuscmot.evaluation.metrics.evaluate_sequence`
and config as ``evaluate_tracker``, so their count per sequence is its IDSW.
"""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, write_csv
from nuscmot.common.runs import parse_tracker_run
from nuscmot.evaluation.classes import class_name
from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_sequence
from nuscmot.evaluation.sequences import GroundTruth, load_gt, load_results

NEAR_FRAMES = 2  # "the other tracker switched too": on the same object within this many frames
COLUMNS = ["sequence", "frame", "gt_id", "class", "instance_token", "previous_track_id", "new_track_id",
           "frames_since_matched", "visibility", "other_tracker", "other_switched"]
INSTANCES = Path("gt") / "instances.csv"


@dataclass(frozen=True)
class Switch:
    """One identity switch of one tracker run."""

    sequence: str
    frame: int
    gt_id: int
    previous_track_id: int
    new_track_id: int
    frames_since_matched: int


def switches_of(name: str, evaluation) -> list[Switch]:
    """Every SWITCH event of a filled accumulator with the track id and frame of the object's
    previous match (MATCH or SWITCH, any earlier frame: motmetrics' convention)."""
    ev = evaluation.accumulator.mot_events
    ev = ev[ev["Type"].isin(["MATCH", "SWITCH"])]
    frames = ev.index.get_level_values("FrameId").to_numpy()
    last: dict[int, tuple[int, int]] = {}
    out = []
    for frame, kind, oid, hid in zip(frames, ev["Type"].to_numpy(), ev["OId"].to_numpy(), ev["HId"].to_numpy()):
        frame, oid, hid = int(frame), int(oid), int(hid)
        if kind == "SWITCH" and oid in last:
            before, prev = last[oid]
            out.append(Switch(name, frame, oid, prev, hid, frame - before))
        last[oid] = (frame, hid)
    return out


def read_instances(mot_dir: Path, name: str) -> dict[int, str]:
    """``{gt id: instance token}`` of a sequence; empty when convert wrote none (older outputs)."""
    path = Path(mot_dir) / name / INSTANCES
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {int(r["id"]): r["instance_token"] for r in csv.DictReader(fh)}


def other_runs(runs: Sequence[str], baseline: str) -> dict[str, str | None]:
    """Each run's counterpart: the baseline for a compared model; for the baseline, the first
    run of another model (None where there is none)."""
    base = next((r for r in runs if parse_tracker_run(r)[0] == baseline), None)
    first_other = next((r for r in runs if parse_tracker_run(r)[0] != baseline), None)
    return {r: (first_other if parse_tracker_run(r)[0] == baseline else base) for r in runs}


def sequence_switches(gt: GroundTruth, results: Mapping[str, Path], cfg: EvaluationConfig) -> dict[str, list[Switch]]:
    return {run: switches_of(gt.name, evaluate_sequence(gt.name, gt.rows, load_results(folder, gt.name, gt.length),
                                                        gt.length, cfg))
            for run, folder in results.items()}


def rows_of(gt: GroundTruth, own: list[Switch], other: list[Switch] | None, other_name: str | None,
            tokens: Mapping[int, str]) -> list[list[Any]]:
    """CSV rows of one run's switches in one sequence."""
    lookup = {(int(r[0]), int(r[1])): r for r in gt.rows}
    near = {(s.gt_id, s.frame) for s in other or []}
    rows = []
    for s in own:
        g = lookup[(s.frame, s.gt_id)]
        hit = any((s.gt_id, s.frame + d) in near for d in range(-NEAR_FRAMES, NEAR_FRAMES + 1))
        rows.append([s.sequence, s.frame, s.gt_id, class_name(int(g[7])), tokens.get(s.gt_id, ""),
                     s.previous_track_id, s.new_track_id, s.frames_since_matched, int(g[8]), other_name or "",
                     "" if other is None else int(hit)])
    return rows


def write_switches(results: Mapping[str, Path], baseline: str, mot_dir: Path, names: Sequence[str],
                   cfg: EvaluationConfig, out_dir: Path) -> dict[str, int]:
    """``<out_dir>/<run>.csv`` for every tracker run of ``results`` (one detection source); the
    switch count per run."""
    if not results:
        raise InputError("--runs", "no tracker runs")
    others = other_runs(list(results), baseline)
    rows: dict[str, list] = {run: [] for run in results}
    for name in names:
        gt = load_gt(mot_dir, name, cfg.ignore_rules)
        found = sequence_switches(gt, results, cfg)
        tokens = read_instances(mot_dir, name)
        evaluated = dataclasses.replace(gt, rows=gt.rows[~cfg.ignore_rules.ignored(gt.rows)])  # ids unique per frame
        for run in results:
            other = others[run]
            rows[run] += rows_of(evaluated, found[run], found.get(other) if other else None, other, tokens)
    with atomic_dir(out_dir) as tmp:
        for run, body in rows.items():
            write_csv(tmp / f"{run}.csv", COLUMNS, body)
    return {run: len(body) for run, body in rows.items()}


def read_switches(path: Path) -> list[dict[str, Any]]:
    """The rows of a switches CSV, numbers as ints (``other_switched``: None where no other ran)."""
    with Path(path).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ints = ("frame", "gt_id", "previous_track_id", "new_track_id", "frames_since_matched", "visibility")
    for r in rows:
        for k in ints:
            r[k] = int(r[k])
        r["other_switched"] = None if r["other_switched"] == "" else bool(int(r["other_switched"]))
    return rows


def per_sequence(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Switch count per sequence."""
    seqs, counts = np.unique([r["sequence"] for r in rows], return_counts=True) if rows else ([], [])
    return {str(s): int(c) for s, c in zip(seqs, counts)}
