"""Figures of ``evaluate_detector``'s analysis (:mod:`nuscmot.detector.analysis`): per-class
precision-recall curves, recall by visibility level, training curves. Written into one folder,
swapped into place when complete."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from nuscmot.common.io import atomic_dir, atomic_path
from nuscmot.detector.analysis import RECALL_POINTS, VISIBILITY_LEVELS


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)


def pr_figure(path: Path, result: Mapping[str, Any], splits: Sequence[str]) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(splits), figsize=(5.2 * len(splits), 4.2), squeeze=False)
    for ax, split in zip(axes[0], splits):
        m = result["splits"][split]
        for name, curve in (m.get("pr_curves") or {}).items():
            if curve is None:
                continue
            pts = [(r, p) for r, p in zip(RECALL_POINTS, curve) if p >= 0]
            ap = (m.get("per_class_AP50") or {}).get(name)
            ax.plot([r for r, _ in pts], [p for _, p in pts], label=f"{name} (AP50 {ap:.2f})" if ap is not None else name)
        ax.set(title=f"{split}: precision-recall at IoU 0.5", xlabel="recall", ylabel="precision", xlim=(0, 1),
               ylim=(0, 1.02))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7, loc="lower left")
        else:
            ax.text(0.5, 0.5, "no detections", ha="center", va="center", transform=ax.transAxes)
    _save(fig, path)


def visibility_figure(path: Path, result: Mapping[str, Any], splits: Sequence[str]) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 3.6))
    x = np.arange(len(VISIBILITY_LEVELS))
    width = 0.8 / len(splits)
    for k, split in enumerate(splits):
        table = result["splits"][split].get("recall_by_visibility") or {}
        vals = [(table.get(str(v)) or {}).get("recall") or 0.0 for v in VISIBILITY_LEVELS]
        ax.bar(x + k * width, vals, width, label=split)
    ax.set_xticks(x + width * (len(splits) - 1) / 2, [f"{v}: {lab}" for v, lab in VISIBILITY_LEVELS.items()])
    thr = result["splits"][splits[0]].get("recall_conf_threshold")
    ax.set(ylim=(0, 1), ylabel="recall", xlabel="nuScenes visibility level",
           title=f"Recall by visibility (IoU 0.5, score >= {thr:g})")
    ax.legend()
    _save(fig, path)


def training_figure(path: Path, epochs: Sequence[Mapping[str, Any]]) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    ep = [r["epoch"] for r in epochs]
    for key in ("total_loss", "iou_loss", "conf_loss", "cls_loss", "l1_loss"):
        axes[0].plot(ep, [r[key] for r in epochs], marker="o", label=key)
    axes[0].set(title="training losses (epoch means)", xlabel="epoch")
    axes[0].legend(fontsize=7)
    axes[1].plot(ep, [r["lr"] for r in epochs], marker="o")
    axes[1].set(title="learning rate (end of epoch)", xlabel="epoch")
    for key in ("AP50", "AP", "AP75", "AR100"):
        pts = [(r["epoch"], r["val"][key]) for r in epochs if r.get("val")]
        axes[2].plot([e for e, _ in pts], [v for _, v in pts], marker="o", label=key)
    axes[2].set(title="val metrics (EMA model)", xlabel="epoch", ylim=(0, 1))
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    _save(fig, path)


def write_plots(folder: Path, result: Mapping[str, Any], splits: Sequence[str]) -> None:
    """``pr_curves.png``, ``recall_by_visibility.png`` and (with a training log) ``training.png``."""
    import matplotlib

    matplotlib.use("Agg")
    with atomic_dir(folder) as tmp:
        pr_figure(tmp / "pr_curves.png", result, splits)
        visibility_figure(tmp / "recall_by_visibility.png", result, splits)
        if result.get("training"):
            training_figure(tmp / "training.png", result["training"])
