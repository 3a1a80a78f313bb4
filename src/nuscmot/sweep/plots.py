"""Sweep heatmaps and gap-ablation curves (matplotlib ``Figure``, Agg, PNG).

Figures are saved without the software-version metadata, so reruns are byte-identical.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nuscmot.sweep.grid import format_value

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
_STYLES = ["-", "--", ":", "-."]
_MARKERS = ["o", "s", "^", "D"]
_LABELS = {"IDSW_per_100_tracked": "IDSW per 100 tracked GT boxes"}


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig, path: str | Path) -> None:
    fig.savefig(path, format="png", metadata={"Software": None})


def _label(value: Any) -> str:
    return "" if value is None or value == "" else format_value(value)


def heatmap_table(
    rows: Sequence[Mapping[str, Any]],
    x_key: str,
    y_key: str,
    metric: str,
    reduce: str,
    at: Mapping[str, Any] | None = None,
) -> tuple[list[Any], list[Any], np.ndarray]:
    """``metric`` over the (y_key, x_key) plane of one tracker's rows.

    ``reduce="min"``: the minimum over every other grid parameter; ``reduce="best"``: the
    value at ``at`` (the best cell's values) for the other parameters. Missing or ``None``
    values are NaN. Returns (x values, y values, matrix[y, x]), axes sorted ascending.
    """
    if reduce not in ("min", "best"):
        raise ValueError(f"reduce must be min or best, got {reduce!r}")
    xs = sorted({r[x_key] for r in rows})
    ys = sorted({r[y_key] for r in rows})
    table = np.full((len(ys), len(xs)), np.nan)
    others = [k for k in (at or {}) if k not in (x_key, y_key)]
    for r in rows:
        if reduce == "best" and any(r[k] != at[k] for k in others):
            continue
        v = r.get(metric)
        if v is None or not math.isfinite(float(v)):
            continue
        i, j = ys.index(r[y_key]), xs.index(r[x_key])
        table[i, j] = float(v) if math.isnan(table[i, j]) else min(table[i, j], float(v))
    return xs, ys, table


def heatmap(
    path: str | Path,
    xs: Sequence[Any],
    ys: Sequence[Any],
    table: np.ndarray,
    *,
    x_key: str,
    y_key: str,
    title: str,
    label: str,
    mark: tuple[Any, Any] | None = None,
) -> None:
    """Annotated heatmap of ``table[y, x]``; ``mark`` = (x, y) of the best cell, outlined."""
    fig = _figure(max(4.5, 1.5 + 0.9 * len(xs)), max(3.2, 1.4 + 0.6 * len(ys)))
    ax = fig.add_subplot()
    masked = np.ma.masked_invalid(table)
    im = ax.imshow(masked, cmap="viridis_r", aspect="auto", origin="lower")
    finite = table[np.isfinite(table)]
    middle = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            v = table[i, j]
            text = "n/a" if not np.isfinite(v) else f"{v:g}"
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color="white" if np.isfinite(v) and v > middle else "black")
    if mark is not None and mark[0] in xs and mark[1] in ys:
        j, i = list(xs).index(mark[0]), list(ys).index(mark[1])
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#d62728", linewidth=2.5))
    ax.set_xticks(range(len(xs)), [_label(x) for x in xs])
    ax.set_yticks(range(len(ys)), [_label(y) for y in ys])
    ax.set_xlabel(x_key)
    ax.set_ylabel(y_key)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label=label)
    _save(fig, path)


def ablation_curves(
    path: str | Path,
    rows: Sequence[Mapping[str, Any]],
    metrics: Sequence[str],
    *,
    title: str,
) -> None:
    """One panel per metric vs drop rate (%); a line per (tracker, ego compensation, mode):
    colour = tracker and compensation setting, line style = drop mode."""
    variants = list(dict.fromkeys((r["tracker"], r.get("ego_compensation", False)) for r in rows))
    several = len({comp for _, comp in variants}) > 1
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    fig = _figure(4.2 * len(metrics), 3.8)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        for ti, (tracker, comp) in enumerate(variants):
            name = f"{tracker}{' + ego comp.' if comp else ''}" if several else tracker
            for mi, mode in enumerate(modes):
                pts = sorted(
                    (100.0 * r["drop_rate"], float(r[metric]))
                    for r in rows
                    if (r["tracker"], r.get("ego_compensation", False), r["mode"]) == (tracker, comp, mode)
                    and r.get(metric) is not None
                )
                if not pts:
                    continue
                x, y = zip(*pts)
                ax.plot(
                    x, y, color=_COLORS[ti % len(_COLORS)], linestyle=_STYLES[mi % len(_STYLES)],
                    marker=_MARKERS[mi % len(_MARKERS)], label=f"{name}, {mode}",
                )  # fmt: skip
        ax.set_xlabel("observation drop rate (%)")
        ax.set_ylabel(_LABELS.get(metric, metric))
        ax.grid(alpha=0.3)
        if metric.startswith("IDSW"):
            ax.yaxis.get_major_locator().set_params(integer=True)
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)
