"""Train TrackSSM on GT trajectories; early stopping and held-out metrics on the val ones.

    python -m nuscmot.train_trackssm --params '<trackssm slice>' --train F.parquet \
        --val F.parquet --runs-dir DIR --model F --heldout F.json

``--train``: trajectories of the detector-train scenes (all cameras); ``--val``: those of the
detector-val scenes (never test scenes). Writes the checkpoint (``--model``, with its model
config and what it was trained on: the training trajectories' frame rate, measured from their
timestamps, their image sizes and the box normalisation; ``track`` refuses sequences that
differ), TensorBoard logs (``--runs-dir``) and ``--heldout``: mean IoU of 1-step and 3-step
predictions of TrackSSM, the Kalman filter and constant position on the same held-out
windows, overall, by class and continuous vs after a gap.
"""

from __future__ import annotations

import os

# Small-batch training on a shared CPU: extra BLAS/OpenMP threads only contend (measured
# 0.09 s vs 7 s per step with 2 threads on 2 busy cores). Set before numpy/torch import.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import dataclasses  # noqa: E402
import logging  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Sequence  # noqa: E402

from nuscmot.common.device import resolve_device
from nuscmot.common import cli  # noqa: E402
from nuscmot.common.config import from_dict  # noqa: E402
from nuscmot.common.errors import InputError, TrainingError  # noqa: E402
from nuscmot.common.io import write_json  # noqa: E402

log = logging.getLogger(__name__)


def format_table(metrics: dict) -> str:
    """Held-out IoU table (markdown) for the log."""
    from tabulate import tabulate

    rows = []
    slices = [("overall", metrics["overall"])]
    slices += [(f"history: {k}", v) for k, v in metrics["by_history"].items()]
    slices += [(f"class: {k}", v) for k, v in metrics["by_class"].items()]
    for label, s in slices:
        if not s:
            continue
        row = [label, s["n_1step"]]
        for model in ("trackssm", "kalman", "constant_position"):
            row += [s[model]["iou_1step"], s[model]["iou_3step"]]
        rows.append(row)
    head = ["slice", "n", "ssm 1-step", "ssm 3-step", "kf 1-step", "kf 3-step", "const 1-step", "const 3-step"]
    return tabulate(rows, head, tablefmt="github", floatfmt=".3f")


def main(argv: Sequence[str] | None = None) -> None:
    import torch

    from nuscmot.tracking.trackssm.checkpoint import TrainedOn, save_checkpoint
    from nuscmot.tracking.trackssm.data import build_tracks, frame_rate, image_sizes, read_trajectories
    from nuscmot.tracking.trackssm.train import TrainConfig, heldout_metrics, train

    p = cli.parser(__doc__.splitlines()[0])
    p.add_argument("--train", required=True, help="training trajectories (parquet)")
    p.add_argument("--val", required=True, help="held-out trajectories (parquet)")
    p.add_argument("--runs-dir", required=True, help="TensorBoard log folder")
    p.add_argument("--model", required=True, help="output checkpoint")
    p.add_argument("--heldout", required=True, help="output held-out metrics (JSON)")
    args = p.parse_args(argv)
    cfg = from_dict(TrainConfig, cli.load_params(args.params), where="trackssm")
    try:
        cfg.model_config()
    except ValueError as exc:
        raise InputError("trackssm", str(exc), key="d_model") from None

    torch.set_num_threads(1)
    device = resolve_device(cfg.device, "trackssm")
    train_df = read_trajectories(args.train)
    train_table = build_tracks(train_df)
    val_table = build_tracks(read_trajectories(args.val))
    if not len(train_table) or (train_table.length < 2).all():
        raise InputError(args.train, "no track with two or more frames to learn from")
    trained_on = TrainedOn(round(frame_rate(train_df, args.train), 3), image_sizes(train_df))
    log.info("training data: %g frames/s, image size(s) %s", trained_on.frame_rate,
             ", ".join(f"{w}x{h}" for w, h in trained_on.image_sizes))
    if not len(val_table) or (val_table.length < 2).all():
        log.warning("%s: no held-out track with two or more frames; early stopping uses the training loss", args.val)
    log.info("training on %d tracks, held out %d tracks, device %s", len(train_table), len(val_table), device)

    from torch.utils.tensorboard import SummaryWriter

    runs = Path(args.runs_dir)
    runs.mkdir(parents=True, exist_ok=True)
    with SummaryWriter(str(runs)) as writer:
        try:
            model, report = train(cfg, train_table, val_table, device=device, writer=writer)
        except FloatingPointError as exc:
            raise TrainingError(str(exc)) from None
        metrics = heldout_metrics(model, val_table, cfg, device=device)
        for name in ("trackssm", "kalman", "constant_position"):
            for key in ("iou_1step", "iou_3step"):
                value = metrics["overall"].get(name, {}).get(key) if metrics["overall"] else None
                if value is not None:
                    writer.add_scalar(f"heldout/{name}/{key}", value)
    minutes = report.pop("minutes")
    cfg_dict = dataclasses.asdict(cfg)
    meta = {"trackssm": cfg_dict, "best_epoch": report["best_epoch"], "parameters": model.n_parameters}
    save_checkpoint(args.model, model.cpu(), trained_on, meta=meta)
    data = {"frame_rate": trained_on.frame_rate, "image_sizes": [list(wh) for wh in trained_on.image_sizes]}
    write_json(args.heldout, {"config": cfg_dict, "trained_on": data, "training": report, "heldout": metrics})
    log.info("trained %d epochs in %.1f min (best %d, stopped by %s)", report["epochs_run"], minutes,
             report["best_epoch"], report["stopped_by"])
    if metrics["overall"]:
        log.info("held-out prediction IoU:\n%s", format_table(metrics))


if __name__ == "__main__":
    cli.run(main)
