"""Summarise an association sweep: one row per (tracker, cell), the best cell per tracker,
IDSW heatmaps per pair of grid parameters.

Each metrics file is ``<sweep dir>/<tracker>/<key~value/...>/metrics.json`` as written by
``evaluate_tracking`` for one cell; every (tracker, cell) of the grid must be given once.

    python -m nuscmot.sweep_summary --params '{"cfg": <sweep slice>, "trackers": [...]}' \
        --metrics F [F ...] --out-csv F --out-best F --heatmaps-dir DIR
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import logging
from pathlib import Path
from typing import Any, Sequence

from nuscmot.common import cli
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, atomic_open, write_json
from nuscmot.sweep import grid, plots
from nuscmot.sweep.summary import METRICS, SweepConfig, best_cells, summary_row

log = logging.getLogger(__name__)

HEATMAP_METRIC = "IDSW"


def trackers_param(params: dict[str, Any]) -> list[str]:
    trackers = params.get("trackers")
    if not isinstance(trackers, list) or not trackers or not all(isinstance(t, str) and t for t in trackers):
        raise InputError("--params", "needs 'trackers': a non-empty list of tracker names", key="trackers")
    return trackers


def locate(paths: Sequence[Path], n_keys: int) -> dict[tuple[str, str], Path]:
    """``{(tracker, cell name): path}`` from ``.../<tracker>/<k~v>/.../metrics.json`` paths."""
    out: dict[tuple[str, str], Path] = {}
    for path in paths:
        parts = Path(path).parts
        if len(parts) < n_keys + 2:
            raise InputError(path, f"expected .../<tracker>/<{n_keys} key~value folders>/{Path(path).name}")
        cell = "/".join(parts[-(n_keys + 1) : -1])
        key = (parts[-(n_keys + 2)], cell)
        if key in out:
            raise InputError(path, f"second metrics file for tracker {key[0]} cell {cell}")
        out[key] = Path(path)
    return out


def collect(cfg: SweepConfig, trackers: list[str], metrics: Sequence[Path]) -> tuple[list[str], list[dict[str, Any]]]:
    """Grid keys and the summary rows (tracker order, then grid order)."""
    from nuscmot.evaluation.compare import load_metrics

    cells = grid.cells(cfg.grid, grid.parameter_types(), where="sweep.grid")
    keys = sorted(cfg.grid)
    located = locate(metrics, len(keys))
    expected = {(t, c.name) for t in trackers for c in cells}
    unknown = sorted(set(located) - expected)
    if unknown:
        t, c = unknown[0]
        raise InputError(located[unknown[0]], f"tracker {t} cell {c} is not in the configured grid/trackers")
    missing = sorted(expected - set(located))
    if missing:
        raise InputError("--metrics", f"no metrics for {len(missing)} cell(s), e.g. {missing[0][0]} {missing[0][1]}")
    rows = []
    for tracker in trackers:
        for cell in cells:
            path = located[(tracker, cell.name)]
            data = load_metrics(path, tracker, [])
            rows.append(summary_row(tracker, cell.name, cell.values, data["overall"], str(path)))
    return keys, rows


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:.6f}"
    return str(value)


def write_summary(path: Path, keys: list[str], rows: list[dict[str, Any]]) -> None:
    columns = ["tracker", *keys, *METRICS, "cell"]
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([grid.format_value(row[c]) if c in keys else _cell_text(row[c]) for c in columns])


def heatmap_pairs(keys: list[str]) -> list[tuple[str, str | None]]:
    """(x, y) parameter pairs: every pair of grid keys, or the one key against nothing."""
    if len(keys) == 1:
        return [(keys[0], None)]
    return [(b, a) for a, b in itertools.combinations(keys, 2)]


def write_heatmaps(folder: Path, cfg: SweepConfig, keys: list[str], rows: list[dict[str, Any]], best: dict[str, Any]) -> list[str]:
    names = []
    for tracker, chosen in best.items():
        mine = [r for r in rows if r["tracker"] == tracker]
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
                how = f", min over {', '.join(others)}"
            else:
                how = ", at best cell's " + ", ".join(f"{k}={grid.format_value(at[k])}" for k in others)
            title = f"{tracker}: {HEATMAP_METRIC}{how}\n(outlined: best cell, see best.json)"
            name = f"idsw_{tracker}_{y_key}_vs_{x_key}" if y_key else f"idsw_{tracker}_{x_key}"
            mark = (at[x_key], at[y_key] if y_key else "")
            plots.heatmap(
                folder / f"{name}.png", xs, ys, table, x_key=x_key, y_key=y_key or "", title=title,
                label=f"{HEATMAP_METRIC} (overall)", mark=mark,
            )  # fmt: skip
            names.append(name)
    return names


def best_report(cfg: SweepConfig, keys: list[str], best: dict[str, Any]) -> dict[str, Any]:
    return {
        "objective": cfg.objective.describe(),
        "objective_config": dataclasses.asdict(cfg.objective),
        "grid": {k: [grid.format_value(v) for v in vals] for k, vals in grid.typed_grid(cfg.grid, grid.parameter_types()).items()},
        "trackers": {
            tracker: {
                "cell": b["cell"],
                "params": {k: b["row"][k] for k in keys},
                "metrics": {m: b["row"][m] for m in METRICS},
                "candidates": b["candidates"],
                "cells": b["cells"],
                "guard_best": b["guard_best"],
            }
            for tracker, b in best.items()
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    p = cli.parser("Summarise an association sweep: table, best cell per tracker, IDSW heatmaps.")
    p.add_argument("--metrics", required=True, nargs="+", type=Path, help="every cell's metrics.json")
    p.add_argument("--out-csv", required=True, type=Path)
    p.add_argument("--out-best", required=True, type=Path)
    p.add_argument("--heatmaps-dir", required=True, type=Path)
    args = p.parse_args(argv)

    params = cli.load_params(args.params)
    cfg = from_dict(SweepConfig, params.get("cfg"), where="sweep")
    trackers = trackers_param(params)
    keys, rows = collect(cfg, trackers, args.metrics)
    best = best_cells(rows, cfg.objective)
    write_summary(args.out_csv, keys, rows)
    with atomic_dir(args.heatmaps_dir) as tmp:
        write_heatmaps(tmp, cfg, keys, rows, best)
    write_json(args.out_best, best_report(cfg, keys, best))
    for tracker, b in best.items():
        r = b["row"]
        log.info("%s: best cell %s (IDSW %s, MOTA %.4f, IDF1 %.4f) of %d", tracker, b["cell"], r["IDSW"], r["MOTA"] or 0.0, r["IDF1"] or 0.0, b["cells"])


if __name__ == "__main__":
    cli.run(main)
