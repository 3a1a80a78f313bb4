"""The summary page's sections below the verdict: the detector, TrackSSM training and the
switches with their gallery. Each takes the pipeline's own outputs and returns HTML."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Mapping

from nuscmot.report.html import esc, figure, num, table

# The published TrackSSM (Hu et al., 2024) where this project's config differs (README: "TrackSSM").
PUBLISHED = {"d_model": 256, "encoder_layers": 6, "decoder_layers": 6, "d_state": 16, "expand": 2,
             "decoder_expand": 1, "history": 5, "head": "absolute", "loss": "smooth_l1 (no GIoU)"}
# evaluate_detector's splits, columns and visibility levels (nuscmot.detector.evaluate and .analysis;
# importing nuscmot.detector needs torch, which the report rules' environment lacks)
SPLITS = ("val", "test_front")
VISIBILITY_LEVELS = {1: "0-40%", 2: "40-60%", 3: "60-80%", 4: "80-100%"}
COLUMNS = (("AP", "AP@[.5:.95]"), ("AP50", "AP@0.5"), ("AP75", "AP@0.75"), ("AR100", "AR@100"))
HELDOUT_MODELS = ("trackssm", "kalman", "constant_position")
DETECTOR_FIGURES = (("training.png", "Training: losses, learning rate and val metrics by epoch (from train_log.txt)."),
                    ("pr_curves.png", "Precision-recall per class at IoU 0.5."),
                    ("recall_by_visibility.png", "Recall by nuScenes visibility level."))


def detector_section(metrics: Mapping[str, Any], plots: Path) -> str:
    splits = metrics["splits"]
    ck = metrics["checkpoint"]
    out = ['<h2 id="detector">Detector</h2>',
           f'<p>{esc(ck["model"])} at input {ck["input_size"][0]}x{ck["input_size"][1]}, checkpoint of epoch '
           f'{esc(ck["epoch"])}; val: the detector-val scenes (6 cameras), test_front: CAM_FRONT of the tracking '
           "test scenes. Numbers from <code>results/detector/metrics.json</code>.</p>",
           table(["split", "images"] + [label for _, label in COLUMNS],
                 [[s, splits[s]["images"]] + [num(splits[s][k]) for k, _ in COLUMNS] for s in SPLITS if s in splits])]
    first = splits[SPLITS[-1]]
    thr = first.get("recall_conf_threshold")
    classes = list(splits[SPLITS[0]]["per_class_AP50"])
    rows = []
    for name in classes:
        row = [name] + [num(splits[s]["per_class_AP50"].get(name)) for s in SPLITS]
        if thr is not None:
            row += [num((splits[s]["per_class_recall"].get(name) or {}).get("recall")) for s in SPLITS]
        rows.append(row)
    header = ["class"] + [f"{s} AP@0.5" for s in SPLITS]
    if thr is not None:
        header += [f"{s} recall (score >= {thr:g})" for s in SPLITS]
    out += ["<h3>Per class</h3>", table(header, rows)]
    if thr is not None:
        out += ["<h3>Recall by visibility</h3>", visibility_table(splits)]
    for name, caption in DETECTOR_FIGURES:
        if (plots / name).is_file():
            out.append(figure(plots / name, caption))
    return "\n".join(out)


def visibility_table(splits: Mapping[str, Any]) -> str:
    rows = []
    for level, label in VISIBILITY_LEVELS.items():
        row = [f"{level} ({label} visible)"]
        for s in SPLITS:
            cell = splits[s]["recall_by_visibility"].get(str(level)) or {}
            row += [cell.get("boxes", 0), num(cell.get("recall"))]
        rows.append(row)
    return table(["visibility"] + [f"{s} {c}" for s in SPLITS for c in ("boxes", "recall")], rows)


def training_curve(seeds: Mapping[str, Mapping[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for seed, doc in seeds.items():
        hist = doc["training"]["training"]["history"]
        ep = [h["epoch"] for h in hist]
        line = ax.plot(ep, [h["train_loss"] for h in hist], marker="o", label=f"seed {seed} train")[0]
        ax.plot(ep, [h["val_loss"] for h in hist], marker="s", linestyle="--", color=line.get_color(),
                label=f"seed {seed} held-out")
    ax.set(xlabel="epoch", ylabel="loss", title="TrackSSM training loss per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.savefig(path, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)


def heldout_table(seeds: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for seed, doc in seeds.items():
        h = doc["heldout"]["heldout"]
        for group, block in [("overall", h["overall"])] + [(f"history: {k}", v) for k, v in h["by_history"].items()]:
            rows.append([f"seed {seed}", group, block.get("n_1step"), block.get("n_3step")]
                        + [num(block[m][k]) for m in HELDOUT_MODELS for k in ("iou_1step", "iou_3step")])
    header = ["model", "windows", "n 1-step", "n 3-step"] + [f"{m} IoU {k}" for m in HELDOUT_MODELS
                                                             for k in ("1-step", "3-step")]
    return table(header, rows)


def trackssm_section(seeds: Mapping[str, Mapping[str, Any]]) -> str:
    """Held-out metrics, the training curve and the settings of every seed's model."""
    first = next(iter(seeds.values()))
    cfg = first["training"]["config"]
    runs = [[f"seed {s}", d["training"]["training"]["epochs_run"], d["training"]["training"]["best_epoch"],
             num(d["training"]["training"]["best_val_loss"]), d["training"]["training"]["stopped_by"],
             d["training"]["training"]["train_samples"], d["training"]["training"]["val_samples"]]
            for s, d in seeds.items()]
    settings = [[k, esc(cfg.get(k, "")), esc(v)] for k, v in PUBLISHED.items()]
    settings += [[k, esc(cfg[k]), ""] for k in ("epochs", "batch_size", "lr", "rollout_steps", "drop_prob", "jitter")
                 if k in cfg]
    with tempfile.TemporaryDirectory() as tmp:
        curve = Path(tmp) / "trackssm_training.png"
        training_curve(seeds, curve)
        fig = figure(curve, "Training (solid) and held-out (dashed) loss per epoch, every seed "
                            "(also in TensorBoard: results/trackssm/seed<N>/runs).")
    return "\n".join([
        '<h2 id="trackssm">TrackSSM</h2>',
        "<p>Trained on GT trajectories of the detector-train scenes; held out: the detector-val scenes' "
        "trajectories. Mean IoU of the predicted box 1 and 3 frames ahead (held-out windows, fixed protocol; "
        "<code>heldout.json</code>), against the Kalman filter and a constant-position guess.</p>",
        heldout_table(seeds), table(["model", "epochs run", "best epoch", "best held-out loss", "stopped by",
                                     "train windows", "held-out windows"], runs), fig,
        "<h3>Settings and the published model</h3>",
        table(["key", "this run", "published TrackSSM"], settings),
        "<p class=\"muted\">Smaller than the published model (the demo trains on CPU); README.md, section "
        "TrackSSM, has the rest of the differences.</p>"])


def switch_counts(gallery: Mapping[str, Any]) -> str:
    rows = []
    for source, entry in gallery.items():
        if source == "animation":
            continue
        seqs = ", ".join(f"{s['sequence']} ({' / '.join(str(s['idsw'][r]) for r in entry['runs'])})"
                         for s in entry["sequences"][:3])
        rows.append([source] + [entry["switches"][r] for r in entry["runs"]] + [seqs or "none"])
    runs = next(e["runs"] for k, e in gallery.items() if k != "animation")
    return table(["source"] + [f"{r} switches" for r in runs] + ["sequences by IDSW difference (switches per run)"],
                 rows)


def switches_section(gallery: Mapping[str, Any], folder: Path, gif: Path) -> str:
    """Counts, the animation and the strips grouped by source and sequence."""
    anim = gallery["animation"]
    out = ['<h2 id="switches">The switches</h2>',
           "<p>Every switch is a row of <code>results/switches/&lt;source run&gt;/&lt;tracker run&gt;.csv</code> "
           "(frame, GT id, class, instance token, previous and new track id, frames since the last match, "
           "visibility, whether the other tracker switched within 2 frames). Below: the reference runs.</p>",
           switch_counts(gallery),
           figure(gif, f"{anim['sequence']} ({anim['source']}), every frame at 2 Hz: "
                       f"{' (left) vs '.join(anim['runs'])} (right); a switching object's GT box in yellow.")]
    for source, entry in gallery.items():
        if source == "animation" or not entry["strips"]:
            continue
        colours = ", ".join(f'<span style="color:{c}">&#9632;</span> {esc(r)}' for r, c in entry["colours"].items())
        out.append(f"<h3>{esc(source)}: crops at t-2 .. t+1</h3><p>GT white, switching object yellow; {colours}.</p>")
        current = None
        for strip in entry["strips"]:
            if strip["sequence"] != current:
                current = strip["sequence"]
                out.append(f"<h4>{esc(current)}</h4>")
            out.append(figure(folder / strip["file"], strip["text"]))
    return "\n".join(out)
