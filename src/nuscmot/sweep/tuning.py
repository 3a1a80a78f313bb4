"""The sweep's summary: every cell's metrics, the tuned cell per detection source and motion
model (best.json, what ``run_tracker --tuned`` reads: the objective's best cell where it beats the
config's own cell beyond the noise, else the config cell, :mod:`nuscmot.sweep.selection`) and
IDSW heatmaps over the grid."""

from __future__ import annotations

import dataclasses
import itertools
import logging
from pathlib import Path
from typing import Any, Sequence

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, read_json, write_csv, write_json
from nuscmot.common.runs import parse_tracker_run
from nuscmot.sweep import grid, plots
from nuscmot.sweep.selection import pick
from nuscmot.sweep.summary import METRICS, SweepConfig, summary_row

log = logging.getLogger(__name__)

HEATMAP_METRIC = "IDSW"


def load_block(path: Path) -> dict[str, Any]:
    doc = read_json(path, "sweep block (sweep_block output)")
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list) or "tracker" not in doc or "source" not in doc:
        raise InputError(path, "not a sweep block (needs tracker, source and rows)")
    return doc


def tuning_split(blocks: Sequence[Path]) -> str:
    """The tuning seqmap's name every block records (``split``; blocks from before it was
    recorded: ``tune``); blocks tuned on different seqmaps are an InputError."""
    names = {}
    for path in blocks:
        names.setdefault(str(load_block(path).get("split", "tune")), path)
    if len(names) > 1:
        listed = ", ".join(f"{n} ({p})" for n, p in names.items())
        raise InputError(blocks[0], f"sweep blocks were tuned on different seqmaps: {listed} (rerun sweep_block)")
    return next(iter(names), "tune")


def collect(cfg: SweepConfig, trackers: list[str], blocks: Sequence[Path]) -> tuple[list[str], list[dict[str, Any]]]:
    """Grid keys (association keys, then every model's own) and the summary rows
    (source, tracker, grid order), each row checked against the configured cells."""
    docs = {}
    for path in blocks:
        doc = load_block(path)
        key = (doc["source"], doc.get("run", doc["tracker"]))
        if key in docs:
            raise InputError(path, f"second block for tracker run {key[1]} on {key[0]} detections")
        docs[key] = (path, doc)
    keys: list[str] = sorted(cfg.grid)
    rows = []
    for (source, run), (path, doc) in docs.items():
        tracker = doc["tracker"]
        if tracker not in trackers:
            raise InputError(path, f"tracker {tracker} is not one of {', '.join(trackers)}")
        cells = grid.cells(cfg.tracker_grid(tracker), grid.parameter_types(), where="sweep")
        got = [r["cell"] for r in doc["rows"]]
        if got != [c.name for c in cells]:
            raise InputError(path, f"its cells differ from the configured grid of {tracker} (rerun sweep_block)")
        keys += [k for k in sorted(cfg.tracker_grid(tracker)) if k not in keys]
        for cell, r in zip(cells, doc["rows"]):
            row = summary_row(run, cell.name, cell.values, r["overall"], str(path))
            extra = {"_sequences": r["sequences"]} if isinstance(r.get("sequences"), dict) else {}
            rows.append({"source": source, **row, "_association": r["association"], "_motion": r["motion"],
                         "_config_cell": doc.get("config_cell"), **extra})
    return keys, rows


def write_summary(path: Path, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """One row per (source, tracker, cell); a model's grid keys are blank in another model's rows."""
    columns = ["source", "tracker", *keys, *METRICS, "cell"]
    write_csv(path, columns, (
        [(grid.format_value(row[c]) if c in row else "") if c in keys else row[c] for c in columns] for row in rows
    ))


def heatmap_pairs(keys: list[str]) -> list[tuple[str, str | None]]:
    """(x, y) parameter pairs: every pair of grid keys, or the one key against nothing."""
    if len(keys) == 1:
        return [(keys[0], None)]
    return [(b, a) for a, b in itertools.combinations(keys, 2)]


def write_heatmaps(folder: Path, cfg: SweepConfig, source: str, rows: list[dict[str, Any]],
                   best: dict[str, Any]) -> list[str]:
    names = []
    for tracker, chosen in best.items():
        mine = [r for r in rows if r["tracker"] == tracker]
        keys = sorted(cfg.tracker_grid(parse_tracker_run(tracker)[0]))
        at = {k: chosen["row"][k] for k in keys}
        for x_key, y_key in heatmap_pairs(keys):
            others = [k for k in keys if k not in (x_key, y_key)]
            if y_key is None:
                mine_1d = [{**r, "_": ""} for r in mine]
                xs, ys, table = plots.heatmap_table(mine_1d, x_key, "_", HEATMAP_METRIC, cfg.heatmap, at)
                ys = [""]
            else:
                xs, ys, table = plots.heatmap_table(mine, x_key, y_key, HEATMAP_METRIC, cfg.heatmap, at)
            if not others:
                how = ""
            elif cfg.heatmap == "min":
                how = f", min over {len(others)} other key(s)"
            else:
                how = ", at the best cell's other values"
            title = f"{tracker} on {source}: {HEATMAP_METRIC}{how}\n(outlined: best cell, see best.json)"
            name = f"idsw_{source}_{tracker}_{y_key}_vs_{x_key}" if y_key else f"idsw_{source}_{tracker}_{x_key}"
            mark = (at[x_key], at[y_key] if y_key else "")
            plots.heatmap(
                folder / f"{name}.png", xs, ys, table, x_key=x_key, y_key=y_key or "", title=title,
                label=f"{HEATMAP_METRIC} (overall)", mark=mark,
            )  # fmt: skip
            names.append(name)
    return names


def best_report(cfg: SweepConfig, best: dict[str, dict[str, Any]], split: str = "tune") -> dict[str, Any]:
    """best.json: per source and tracker the chosen cell, its full settings and its metrics;
    ``split``: the tuning seqmap's name (:func:`tuning_split`)."""
    def one(tracker: str, b: dict[str, Any]) -> dict[str, Any]:
        keys = sorted(cfg.tracker_grid(parse_tracker_run(tracker)[0]))
        return {
            "cell": b["cell"],
            "params": {k: b["row"][k] for k in keys},
            "association": b["row"]["_association"],
            "motion": b["row"]["_motion"],
            "metrics": {m: b["row"][m] for m in METRICS},
            "candidates": b["candidates"],
            "cells": b["cells"],
            "guard_best": b["guard_best"],
            "chosen": b["chosen"],
            "best_cell": b["best_cell"],
            "config_cell": b["config_cell"],
            "config_in_grid": b["config_in_grid"],
            "beats_config": b["beats_config"],
            "reason": b["reason"],
        }

    return {
        "objective": cfg.objective.describe(),
        "objective_config": dataclasses.asdict(cfg.objective),
        "split": split,
        "grid": {k: [grid.format_value(v) for v in vals]
                 for k, vals in grid.typed_grid(cfg.grid, grid.parameter_types()).items()},
        "motion": {t: {k: [grid.format_value(v) for v in vals] for k, vals in g.items()} for t, g in cfg.motion.items()},
        "sources": {source: {t: one(t, b) for t, b in per.items()} for source, per in best.items()},
    }


def pick_per_tracker(cfg: SweepConfig, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The chosen cell per tracker of one source (:func:`nuscmot.sweep.selection.pick`)."""
    out = {}
    for tracker in dict.fromkeys(r["tracker"] for r in rows):
        mine = [r for r in rows if r["tracker"] == tracker]
        out[tracker] = pick(cfg.objective, mine, mine[0].get("_config_cell"))
    return out


def summarise_sweep(cfg: SweepConfig, trackers: list[str], blocks: Sequence[Path], out_csv: Path, out_best: Path,
                    heatmaps_dir: Path, notes: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """The sweep's summary table, best.json (the chosen cell per source and motion model; with
    ``notes``, what the workflow left out of the grid and why) and the IDSW heatmaps; returns
    the best cells."""
    keys, rows = collect(cfg, trackers, blocks)
    sources = list(dict.fromkeys(r["source"] for r in rows))
    best = {s: pick_per_tracker(cfg, [r for r in rows if r["source"] == s]) for s in sources}
    write_summary(out_csv, keys, rows)
    with atomic_dir(heatmaps_dir) as tmp:
        for s in sources:
            write_heatmaps(tmp, cfg, s, [r for r in rows if r["source"] == s], best[s])
    report = best_report(cfg, best, tuning_split(blocks))
    write_json(out_best, {**report, **({"notes": list(notes)} if notes else {})})
    for s, per in best.items():
        for tracker, b in per.items():
            r = b["row"]
            log.info("%s on %s: cell %s (IDSW %s, MOTA %.4f, IDF1 %.4f) of %d: %s", tracker, s, b["cell"], r["IDSW"],
                     r["MOTA"] or 0.0, r["IDF1"] or 0.0, b["cells"], b["reason"])
    return best


def pick_tuned(cfg: SweepConfig, trackers: list[str], block: Path, out: Path) -> dict[str, Any]:
    """The tuned cell of one tracker run on one source (one block), written in best.json's
    form under the motion model's name: what ``run_tracker --tuned`` of that run reads. One
    file per run, so a change to one model's block re-tunes and reruns that model alone."""
    _, rows = collect(cfg, trackers, [block])
    (source,) = {r["source"] for r in rows}
    ((run, chosen),) = pick_per_tracker(cfg, rows).items()
    model = parse_tracker_run(run)[0]
    doc = {**best_report(cfg, {source: {model: chosen}}, tuning_split([block])), "run": run}
    write_json(out, doc)
    r = chosen["row"]
    log.info("%s on %s: cell %s (IDSW %s, MOTA %.4f) of %d: %s", run, source, chosen["cell"], r["IDSW"],
             r["MOTA"] or 0.0, chosen["cells"], chosen["reason"])
    return doc
