"""Figures for the IDSW comparison (matplotlib, Agg backend, PNG).

Each function draws one figure on its own ``Figure`` (no pyplot global state) and saves it
to the given path without the software-version metadata, so reruns are byte-identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
_MARKERS = ["v", "^", "o", "s", "D", "P"]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig, path: str | Path) -> None:
    fig.savefig(path, format="png", metadata={"Software": None})


def idsw_per_sequence(path: str | Path, names: Sequence[str], idsw: Mapping[str, Mapping[str, float]], baseline: str,
                      runs: Mapping[str, Mapping[str, Sequence[float]]] | None = None) -> None:
    """Grouped bars: IDSW per tracker for every sequence (the mean over its runs), with the range
    over the runs (seeds, draws) as error bars where a tracker has several."""
    trackers = list(idsw)
    n, k = len(names), len(trackers)
    fig = _figure(min(max(6.0, 0.45 * n * k + 2), 24.0), 4.5)
    ax = fig.add_subplot()
    x = np.arange(n)
    width = 0.8 / k
    for i, t in enumerate(trackers):
        label = f"{t} (baseline)" if t == baseline else t
        values = np.asarray([idsw[t][s] for s in names], dtype=float)
        spread = [runs[t][s] for s in names] if runs and len(runs[t][names[0]]) > 1 else None
        yerr = None if spread is None else np.array([[v - min(r) for v, r in zip(values, spread)],
                                                     [max(r) - v for v, r in zip(values, spread)]])
        if spread is not None:
            label += " (mean; bar: range over runs)"
        ax.bar(x + (i - (k - 1) / 2) * width, values, width, label=label, color=_COLORS[i % len(_COLORS)],
               yerr=yerr, capsize=2, error_kw={"elinewidth": 0.8})
    if n > 30:
        ax.set_xticks(x, names, rotation=90, fontsize=6)
    elif n > 6:
        ax.set_xticks(x, names, rotation=60, ha="right", rotation_mode="anchor", fontsize=8)
    else:
        ax.set_xticks(x, names, fontsize=8)
    ax.set_xlim(-0.6, n - 0.4)
    top = max([max(runs[t][s]) if runs else idsw[t][s] for t in trackers for s in names], default=0)
    ax.set_ylim(0, max(1, top) * 1.2)  # headroom for the legend
    ax.set_xlabel("test sequence")
    ax.set_ylabel("identity switches (IDSW)")
    ax.set_title("Identity switches per sequence")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    _save(fig, path)


def delta_scatter(
    path: str | Path,
    x: Sequence[float],
    deltas: Mapping[str, Sequence[float]],
    r: Mapping[str, float | None],
    *,
    xlabel: str,
    title: str,
    baseline: str,
    runs: Mapping[str, Sequence[Sequence[float]]] | None = None,
) -> None:
    """Per-sequence IDSW delta vs an explanatory variable, with a least-squares line per tracker;
    ``runs[t][i]``: each run's delta at sequence i, drawn as small faint points (the per-seed spread)."""
    fig = _figure(6.4, 4.8)
    ax = fig.add_subplot()
    xs = np.asarray(x, dtype=float)
    parts = []
    for i, (t, d) in enumerate(deltas.items()):
        ys = np.asarray(d, dtype=float)
        color = _COLORS[(i + 1) % len(_COLORS)]
        each = (runs or {}).get(t)
        if each and max(len(r) for r in each) > 1:
            px = np.concatenate([np.full(len(r), xv) for xv, r in zip(xs, each)])
            ax.scatter(px, np.concatenate([np.asarray(r, dtype=float) for r in each]), color=color, alpha=0.3, s=10,
                       marker="_", label=f"{t}: each run (seed, draw)")
        ax.scatter(xs, ys, color=color, alpha=0.8, label=f"{t} - {baseline}" + (" (mean over runs)" if each else ""))
        if len(xs) >= 2 and np.ptp(xs) > 0:
            slope, icept = np.polyfit(xs, ys, 1)
            line = np.linspace(xs.min(), xs.max(), 50)
            ax.plot(line, slope * line + icept, color=color, lw=1.5, label=f"least squares: {slope:+.3g}·x {icept:+.3g}")
        rv = r.get(t)
        parts.append(f"{t}: r = {rv:+.3f}" if rv is not None else f"{t}: r undefined")
    ax.axhline(0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"IDSW delta (tracker - {baseline})")
    ax.set_title(f"{title}\n(Pearson {'; '.join(parts) if parts else 'n/a'}; n = {len(xs)} sequences)", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def switch_timeline(
    path: str | Path,
    sequence: str,
    objects_per_frame: Sequence[int],
    switch_frames: Mapping[str, Sequence[int]],
    subtitle: str = "",
) -> None:
    """GT objects per frame, with the frames where each tracker switched an identity."""
    counts = np.asarray(objects_per_frame)
    frames = np.arange(1, len(counts) + 1)
    trackers = list(switch_frames)
    fig = _figure(min(max(7.0, 0.05 * len(counts) + 5), 20.0), 5.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, max(1, len(trackers)) * 0.6])
    top.fill_between(frames, counts, step="mid", color="0.85", label="GT objects in frame")
    top.step(frames, counts, where="mid", color="0.4", lw=1)
    for i, t in enumerate(trackers):
        sw = np.asarray(switch_frames[t], dtype=int)
        if sw.size:
            uniq, mult = np.unique(sw, return_counts=True)
            top.scatter(
                uniq, counts[uniq - 1] + 0.5 + 0.8 * i, s=30 + 25 * (mult - 1), marker=_MARKERS[i % len(_MARKERS)],
                color=_COLORS[i % len(_COLORS)], label=f"{t}: {sw.size} switches", zorder=3, alpha=0.9,
            )  # fmt: skip
            bottom.eventplot([uniq], lineoffsets=i, linelengths=0.7, colors=[_COLORS[i % len(_COLORS)]])
        else:
            top.scatter([], [], marker=_MARKERS[i % len(_MARKERS)], color=_COLORS[i % len(_COLORS)], label=f"{t}: 0 switches")
    top.set_ylabel("GT objects")
    top.yaxis.get_major_locator().set_params(integer=True)
    top.set_ylim(0, max(1, counts.max(initial=0)) * 1.15 + 0.8 * (len(trackers) + 1))
    top.set_title(f"Identity switches over time, {sequence}" + (f"\n{subtitle}" if subtitle else ""), fontsize=11)
    top.grid(alpha=0.3)
    top.legend(fontsize=8, loc="upper left", title="marker size: switches in the frame", title_fontsize=7, framealpha=0.9)
    bottom.set_yticks(range(len(trackers)), trackers)
    bottom.set_ylim(-0.6, len(trackers) - 0.4)
    bottom.set_xlabel("frame")
    bottom.set_xlim(0.5, len(counts) + 0.5)
    bottom.grid(axis="x", alpha=0.3)
    _save(fig, path)
