"""Evaluate a block of grid cells in one process: track + evaluate every cell on the tuning split.

One Snakemake job per (detection source, motion model) runs all of that model's cells: each cell
is the real ``run_tracker`` step (:func:`nuscmot.tracking.run.track_one`) and the real evaluation
(:func:`nuscmot.evaluation.metrics.evaluate_many`), with results passed through the MOT text
format as the pipeline does, so a cell scores exactly what ``run_tracker`` + ``evaluate_tracker``
would. A job per cell would pay Python's and Snakemake's start-up per cell, which dominates on
short sequences.

Leak-free by construction: :func:`check_tuning_split` refuses a tuning seqmap that names any
sequence of the test seqmap (and, on nuScenes data, any scene outside detector-val of
``splits.json`` from ``convert``) before anything of a sequence is read.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.io import read_json, write_json
from nuscmot.common.mot import read_mot, read_seqmap, write_mot
from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_many
from nuscmot.evaluation.sequences import load_gt
from nuscmot.sweep.grid import MOTION_SEP
from nuscmot.sweep.selection import SEQUENCE_METRICS

log = logging.getLogger(__name__)


def check_tuning_split(names: Sequence[str], test_seqmap: str | Path, seqmap: str | Path,
                       splits_path: str | Path | None = None) -> None:
    """Tuning reads no test sequence: no sequence of ``seqmap`` is one of ``test_seqmap``; with
    ``splits_path`` (nuScenes data: splits.json from convert) every one is a detector-val scene."""
    leaked = sorted(set(names) & set(read_seqmap(test_seqmap)))
    if leaked:
        raise InputError(seqmap, f"lists test sequence(s) {', '.join(leaked[:5])} of {test_seqmap}: "
                                 "tuning must never read the test split")
    if splits_path is None:
        return
    splits = read_json(splits_path, "scene splits (splits.json from convert)")
    leaked = sorted(set(names) & set(splits.get("test", [])))
    if leaked:
        raise InputError(seqmap, f"lists test scene(s) {', '.join(leaked[:5])}: tuning must never read the test split")
    foreign = sorted(set(names) - set(splits.get("detector_val", [])))
    if foreign:
        raise InputError(seqmap, f"scene(s) {', '.join(foreign[:5])} are not detector-val scenes of {splits_path}")


def split_values(tracker: str, values: Mapping[str, Any]) -> tuple[dict, dict]:
    """A cell's values as (association keys, this model's motion keys without their prefix)."""
    assoc, motion = {}, {}
    for key, value in values.items():
        owner, sep, name = key.partition(MOTION_SEP)
        if not sep:
            assoc[key] = value
        elif owner == tracker:
            motion[name] = value
        else:
            raise InputError("--params", f"cell key {key} belongs to another motion model than {tracker}")
    return assoc, motion


def run_cell(tracker_name: str, association: Mapping[str, Any], motion: Mapping[str, Any], score_transform: Any,
             model: str | None, gts: Mapping[str, Any], mot_dir: Path, dets_dir: Path, cfg: EvaluationConfig,
             scratch: Path) -> dict[str, dict[str, Any]]:
    """Track every sequence of ``gts`` (ground truth read once per block) with one cell's settings;
    the metrics rows (every sequence's, and ``OVERALL``)."""
    from nuscmot.tracking.run import motion_factory, track_one
    from nuscmot.tracking.config import AssociationConfig
    from nuscmot.tracking.scores import ScoreTransform

    assoc = from_dict(AssociationConfig, dict(association), where="tracking.association")
    transform = from_dict(ScoreTransform, score_transform, where="tracking.score_transform")
    make_motion = motion_factory(tracker_name, dict(motion), model)
    names = list(gts)
    results = {}
    for name in names:
        rows, _, _ = track_one(assoc, make_motion, mot_dir, dets_dir, name, transform)
        write_mot(scratch / f"{name}.txt", rows, "result")
        results[name] = read_mot(scratch / f"{name}.txt", "result")
    rows, _ = evaluate_many(names, lambda n: (gts[n].rows, results[n], gts[n].length), cfg)
    return rows


def config_cell(tracker: str, params: Mapping[str, Any]) -> str | None:
    """The cell whose values are the config's own (its association and motion slices, defaults
    filled in), or None where the config's values are not a cell of the grid."""
    from nuscmot.tracking.config import AssociationConfig
    from nuscmot.tracking.kalman import KalmanConfig
    from nuscmot.tracking.trackssm.config import TrackSSMMotionConfig

    motion_cls = {"kalman": KalmanConfig, "trackssm": TrackSSMMotionConfig}[tracker]
    motion = dataclasses.asdict(from_dict(motion_cls, params.get("motion") or {}, where=f"tracking.motion.{tracker}"))
    base = {**dataclasses.asdict(from_dict(AssociationConfig, params.get("cfg") or {}, where="tracking.association")),
            **{f"{tracker}{MOTION_SEP}{k}": v for k, v in motion.items()}}
    for cell in params["cells"]:
        if all(k in base and base[k] == v for k, v in cell["values"].items()):
            return cell["name"]
    return None


def run_block(tracker_name: str, params: Mapping[str, Any], model: str | None, names: Sequence[str],
              mot_dir: Path, dets_dir: Path) -> list[dict[str, Any]]:
    """One row per cell: name, values, the effective association and motion slices, OVERALL metrics."""
    from tqdm import tqdm

    cfg = from_dict(EvaluationConfig, params.get("evaluation"), where="evaluation")
    gts = {n: load_gt(mot_dir, n) for n in names}  # the same for every cell: read once
    out = []
    with tempfile.TemporaryDirectory(prefix="nuscmot-block-") as tmp:
        for cell in tqdm(params["cells"], desc=f"cells {tracker_name}", unit="cell", disable=None):
            a, m = split_values(tracker_name, cell["values"])
            association = {**params.get("cfg", {}), **a}
            motion = {**params.get("motion", {}), **m}
            rows = run_cell(tracker_name, association, motion, params.get("score_transform"), model, gts,
                            mot_dir, dets_dir, cfg, Path(tmp))
            out.append({"cell": cell["name"], "values": cell["values"], "association": association,
                        "motion": motion, "overall": rows["OVERALL"],
                        "sequences": {n: {m: rows[n][m] for m in SEQUENCE_METRICS} for n in names}})
    return out


def sweep_block(tracker: str, source: str, params: Mapping[str, Any], model: str | None, seqmap: Path,
                test_seqmap: Path, mot_dir: Path, dets_dir: Path, out: Path, run: str | None = None,
                splits: Path | None = None) -> list[dict[str, Any]]:
    """Every grid cell of ``tracker`` on ``source`` detections of the tuning sequences (checked:
    none is a test sequence; with ``splits``, all are detector-val scenes); write the block JSON
    (its ``split``: the tuning seqmap's stem); return its rows. ``run``: the tracker run's name
    (``trackssm-s1``: one block per training seed; default the tracker's)."""
    names = read_seqmap(seqmap)
    if not names:
        raise InputError(seqmap, "seqmap lists no sequences")
    check_tuning_split(names, test_seqmap, seqmap, splits)
    t0 = time.perf_counter()
    rows = run_block(tracker, params, model, names, mot_dir, dets_dir)
    write_json(out, {"tracker": tracker, "run": run or tracker, "source": source, "split": Path(seqmap).stem, "sequences": names,
                     "rows": rows, "config_cell": config_cell(tracker, params)})
    log.info("%s on %s: %d cells on %d tuning sequences in %.1f s", tracker, source, len(rows), len(names),
             time.perf_counter() - t0)
    return rows
