"""One tracker's metrics over the test sequences: per-sequence and OVERALL rows (motmetrics
CLEAR/identity metrics and TrackEval HOTA, :mod:`nuscmot.evaluation.metrics`), as CSV and JSON."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Sequence

from nuscmot.common.errors import InputError
from nuscmot.common.io import write_csv, write_json
from nuscmot.common.mot import read_seqmap
from nuscmot.evaluation.metrics import (
    COLUMN_HELP,
    COLUMNS,
    IDSW_CONVENTION,
    EvaluationConfig,
    evaluate_many,
)
from nuscmot.data.classes import CLASSES
from nuscmot.evaluation.classes import class_table
from nuscmot.evaluation.sequences import load_gt, load_results

log = logging.getLogger(__name__)
CLASS_NOTE = ("per class: each class evaluated on its own GT and result boxes only (class-aware), "
              "so the class counts need not add up to the overall ones")


def load_sequences(results_dir: Path, mot_dir: Path, names: list[str], cfg: EvaluationConfig) -> dict[str, tuple]:
    """``{name: (gt_rows, result_rows, length)}`` of every sequence."""
    out = {}
    for name in names:
        gt = load_gt(mot_dir, name, cfg.ignore_rules)
        out[name] = (gt.rows, load_results(results_dir, name, gt.length), gt.length)
    return out


def evaluate_tracker(results_dir: Path, mot_dir: Path, names: list[str], cfg: EvaluationConfig):
    """Per-sequence + OVERALL rows (dicts keyed by ``COLUMNS``) and the per-sequence evaluations."""
    loaded = load_sequences(results_dir, mot_dir, names, cfg)
    return evaluate_many(names, loaded.__getitem__, cfg)


def write_metrics_csv(path: Path, rows: dict[str, dict[str, Any]]) -> None:
    write_csv(path, COLUMNS, ([row[c] for c in COLUMNS] for row in rows.values()))


def report(tracker: str, cfg: EvaluationConfig, rows: dict[str, dict[str, Any]],
           classes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The metrics JSON: per-sequence and overall rows, and (``classes``) per class
    (:func:`nuscmot.evaluation.classes.class_table`)."""
    return {
        "tracker": tracker,
        "params": dataclasses.asdict(cfg),
        "idsw_convention": IDSW_CONVENTION,
        "columns": {c: COLUMN_HELP[c] for c in COLUMNS if c != "sequence"},
        "sequences": {name: row for name, row in rows.items() if name != "OVERALL"},
        "overall": rows["OVERALL"],
        "classes": classes or {},
        "class_note": CLASS_NOTE,
    }


def write_tracker_metrics(tracker: str, cfg: EvaluationConfig, results_dir: Path, mot_dir: Path, seqmap: Path,
                          out_csv: Path, out_json: Path, classes: Sequence[str] = CLASSES) -> dict[str, Any]:
    """Evaluate ``tracker``'s results of every seqmap sequence; write the CSV and the JSON (per
    class: ``classes`` names the class ids 1..N); return the OVERALL row."""
    names = read_seqmap(seqmap)
    if not names:
        raise InputError(seqmap, "seqmap lists no sequences")
    if "OVERALL" in names:
        raise InputError(seqmap, "a sequence must not be named OVERALL (the name of the summary row)")
    if not results_dir.is_dir():
        raise InputError(results_dir, "results folder does not exist")
    extra = sorted(f.stem for f in results_dir.glob("*.txt") if f.stem not in set(names))
    if extra:
        log.warning("ignoring %d result file(s) not in the seqmap: %s", len(extra), ", ".join(extra[:5]))
    loaded = load_sequences(results_dir, mot_dir, names, cfg)
    rows, _ = evaluate_many(names, loaded.__getitem__, cfg)
    write_metrics_csv(out_csv, rows)
    write_json(out_json, report(tracker, cfg, rows, class_table(loaded, cfg, classes)))
    o = rows["OVERALL"]
    log.info(
        "%s: IDSW %s (TrackEval %s) MOTA %.3f IDF1 %.3f HOTA %.3f over %d sequences",
        tracker, o["IDSW"], o["IDSW_trackeval"], o["MOTA"] or 0.0, o["IDF1"] or 0.0, o["HOTA"], len(names),
    )  # fmt: skip
    return o
