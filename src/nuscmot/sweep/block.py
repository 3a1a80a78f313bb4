"""Evaluate a block of grid cells in one process: track + evaluate every cell on the tuning split.

One Snakemake job per (detection source, motion model) runs all of that model's cells: each cell
is the real ``run_tracker`` step (:func:`nuscmot.tracking.run.check_sequences`, then
:func:`nuscmot.tracking.run.track_input`) and the real evaluation
(:func:`nuscmot.evaluation.metrics.evaluate_many`), with results passed through the MOT text
format as the pipeline does, so a cell scores exactly what ``run_tracker`` + ``evaluate_tracker``
would. A job per cell would pay Python's and Snakemake's start-up per cell, which dominates on
short sequences.

Leak-free by construction: :func:`check_tuning_split` refuses a tuning seqmap that names any
sequence of the test seqmap (any data), and with ``splits.json`` from ``convert`` (nuScenes) any
sequence that is not a detector-val scene, before anything of a sequence is read. The block
records the tuning seqmap's name (its file stem) as its ``split``.
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
from nuscmot.common.mot import read_mot, read_seqmap, refuse_test_sequences, write_mot
from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_many
from nuscmot.evaluation.sequences import load_gt
from nuscmot.sweep.grid import MOTION_SEP
from nuscmot.sweep.selection import SEQUENCE_METRICS

log = logging.getLogger(__name__)


def check_tuning_split(names: Sequence[str], seqmap: str | Path, test_seqmap: str | Path,
                       splits_path: str | Path | None = None) -> None:
    """Tuning reads no test sequence: none of ``names`` (the tuning seqmap's) may be listed by the
    test seqmap; with ``splits_path`` (nuScenes, from convert) every one must also be a
    detector-val scene (official train side)."""
    refuse_test_sequences(names, read_seqmap(test_seqmap), seqmap, test_seqmap, "tuning must never read the test split")
    if splits_path is None:
        return
    splits = read_json(splits_path, "scene splits (splits.json from convert)")
    leaked = sorted(set(names) & set(splits.get("test", [])))
    if leaked:
        raise InputError(seqmap, f"lists test scene(s) {', '.join(leaked[:5])}: tuning must never read the test split")
    foreign = sorted(set(names) - set(splits.get("detector_val", [])))
    if foreign:
        raise InputError(seqmap, f"scene(s) {', '.join(foreign[:5])} are not detector-val scenes of {splits_path}")


def split_name(seqmap: str | Path) -> str:
    """The tuning split's name as results record it: the seqmap's file stem (``tune``,
    ``MOT17-train-half``)."""
    return Path(seqmap).stem


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


def run_cell(assoc: Any, cell_index: int, inputs: Mapping[str, Any], gts: Mapping[str, Any], cfg: EvaluationConfig,
             scratch: Path) -> dict[str, dict[str, Any]]:
    """Track every sequence of ``gts`` (ground truth read once per block) with one cell's
    association settings and its motion models (``inputs[name].motions[cell_index]``, built by
    :func:`nuscmot.tracking.run.check_sequences`); the metrics rows (every sequence's, ``OVERALL``)."""
    from nuscmot.tracking.run import track_input

    names = list(gts)
    results = {}
    for name in names:
        rows, _ = track_input(assoc, inputs[name].motions[cell_index], inputs[name])
        write_mot(scratch / f"{name}.txt", rows, "result")
        results[name] = read_mot(scratch / f"{name}.txt", "result")
    rows, _ = evaluate_many(names, lambda n: (gts[n].rows, results[n], gts[n].length), cfg)
    return rows


def config_cell(tracker: str, params: Mapping[str, Any]) -> str | None:
    """The cell whose values are the config's own (its association and motion slices, defaults
    filled in), or None where the config's values are not a cell of the grid."""
    from nuscmot.tracking.config import AssociationConfig
    from nuscmot.tracking.models import motion_config

    motion = dataclasses.asdict(motion_config(tracker, params.get("motion") or {}))
    base = {**dataclasses.asdict(from_dict(AssociationConfig, params.get("cfg") or {}, where="tracking.association")),
            **{f"{tracker}{MOTION_SEP}{k}": v for k, v in motion.items()}}
    for cell in params["cells"]:
        if all(k in base and base[k] == v for k, v in cell["values"].items()):
            return cell["name"]
    return None


def cell_settings(tracker_name: str, params: Mapping[str, Any]) -> list[tuple[dict, dict, dict]]:
    """``(cell, association, motion)`` of every cell: the base slices with the cell's values."""
    out = []
    for cell in params["cells"]:
        a, m = split_values(tracker_name, cell["values"])
        out.append((cell, {**params.get("cfg", {}), **a}, {**params.get("motion", {}), **m}))
    return out


def run_block(tracker_name: str, params: Mapping[str, Any], model: str | None, names: Sequence[str],
              mot_dir: Path, dets_dir: Path, seqmap: str | Path = "--seqmap") -> list[dict[str, Any]]:
    """One row per cell: name, values, the effective association and motion slices, OVERALL metrics.
    Every sequence is checked with every cell's motion model before any cell is tracked."""
    from tqdm import tqdm

    from nuscmot.tracking.config import AssociationConfig
    from nuscmot.tracking.models import motion_factory
    from nuscmot.tracking.run import check_sequences
    from nuscmot.tracking.scores import ScoreTransform

    cfg = from_dict(EvaluationConfig, params.get("evaluation"), where="evaluation")
    transform = from_dict(ScoreTransform, params.get("score_transform"), where="tracking.score_transform")
    cells = cell_settings(tracker_name, params)
    assocs = [from_dict(AssociationConfig, a, where="tracking.association") for _, a, _ in cells]
    factories = [motion_factory(tracker_name, dict(m), model) for _, _, m in cells]
    inputs = check_sequences(list(names), mot_dir, dets_dir, transform, factories,
                             any(a.ego_compensation for a in assocs), seqmap)
    gts = {n: load_gt(mot_dir, n, cfg.ignore_rules) for n in names}  # the same for every cell: read once
    out = []
    with tempfile.TemporaryDirectory(prefix="nuscmot-block-") as tmp:
        for i, (cell, association, motion) in enumerate(tqdm(cells, desc=f"cells {tracker_name}", unit="cell",
                                                             disable=None)):
            rows = run_cell(assocs[i], i, inputs, gts, cfg, Path(tmp))
            out.append({"cell": cell["name"], "values": cell["values"], "association": association,
                        "motion": motion, "overall": rows["OVERALL"],
                        "sequences": {n: {m: rows[n][m] for m in SEQUENCE_METRICS} for n in names}})
    return out


def sweep_block(tracker: str, source: str, params: Mapping[str, Any], model: str | None, seqmap: Path,
                test_seqmap: Path, splits: Path | None, mot_dir: Path, dets_dir: Path, out: Path,
                run: str | None = None) -> list[dict[str, Any]]:
    """Every grid cell of ``tracker`` on ``source`` detections of the tuning sequences (checked
    by :func:`check_tuning_split`); write the block JSON; return its rows. ``run``: the tracker
    run's name (``trackssm-s1``: one block per training seed; default the tracker's)."""
    names = read_seqmap(seqmap)
    if not names:
        raise InputError(seqmap, "seqmap lists no sequences")
    check_tuning_split(names, seqmap, test_seqmap, splits)
    t0 = time.perf_counter()
    rows = run_block(tracker, params, model, names, mot_dir, dets_dir, seqmap)
    write_json(out, {"tracker": tracker, "run": run or tracker, "source": source, "split": split_name(seqmap),
                     "sequences": names,
                     "rows": rows, "config_cell": config_cell(tracker, params)})
    log.info("%s on %s: %d cells on %d tuning sequences in %.1f s", tracker, source, len(rows), len(names),
             time.perf_counter() - t0)
    return rows
