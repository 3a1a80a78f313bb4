"""Synthetic nuScenes-format dataset: tables the devkit loads, JPEGs rendered from the same boxes.

``generate(cfg, version, dataroot)`` builds ``dataroot`` atomically: ``<version>/*.json``
(the 13 nuScenes tables plus ``splits.json``), ``samples/CAM_*/*.jpg`` and ``maps/*.png``.
Scenes are independent (seeded per scene) and rendered by a small process pool; the
output is byte-identical for the same config, whatever the number of workers.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from pathlib import Path

from tqdm import tqdm

from nuscmot.common.io import atomic_dir, write_json
from nuscmot.synthetic.calibration import CHANNELS
from nuscmot.synthetic.config import SynthConfig, synth_config
from nuscmot.synthetic.tables import TABLES, vocabulary_tables

__all__ = ["SynthConfig", "synth_config", "generate", "scene_names", "split_scenes"]

log = logging.getLogger(__name__)


def scene_names(cfg: SynthConfig) -> list[str]:
    return [f"scene-{cfg.scene_offset + i + 1:04d}" for i in range(cfg.n_scenes)]


def split_scenes(cfg: SynthConfig) -> dict[str, list[str]]:
    """The synthetic "official" split: train and val scene names, interleaved by a seeded shuffle."""
    import numpy as np

    names = scene_names(cfg)
    order = np.random.default_rng([cfg.seed, 7919]).permutation(len(names))
    val = sorted(names[i] for i in order[: cfg.val_scenes])
    train = sorted(n for n in names if n not in set(val))
    return {"train": train, "val": val}


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def worker_context():
    """The scene workers' start method: never fork. A fork of a process whose threads hold a
    lock (OpenCV's pool after an earlier use, e.g. earlier in a test session) deadlocks the
    child in ``cv2.setNumThreads``; workers start from the clean forkserver process instead."""
    return mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")


def _run(job):
    from nuscmot.synthetic.scene import build_scene

    return build_scene(job)


def generate(cfg: SynthConfig, version: str, dataroot: str | Path, *, workers: int | None = None,
             id_masks: bool = False) -> Path:
    """Build the whole dataset at ``dataroot`` (replacing it only once complete).

    ``workers``: scene processes (default: up to 2, one per core); ``id_masks``: also write
    the rendered object-id buffers (16-bit PNGs under ``id_masks/``, tests use them).
    """
    from nuscmot.synthetic.scene import SceneJob

    dataroot = Path(dataroot)
    names = scene_names(cfg)
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1))
    workers = max(1, min(workers, len(names)))
    with atomic_dir(dataroot) as root:
        for channel in CHANNELS:
            (root / "samples" / channel).mkdir(parents=True)
        (root / "maps").mkdir()
        jobs = [SceneJob(cfg, i, name, root, id_masks) for i, name in enumerate(names)]
        bar = tqdm(total=len(jobs), desc="synth scenes", unit="scene")
        if workers == 1:
            _init_worker()
            results = []
            for job in jobs:
                results.append(_run(job))
                bar.update()
        else:
            with worker_context().Pool(workers, initializer=_init_worker) as pool:
                results = []
                for res in pool.imap(_run, jobs):
                    results.append(res)
                    bar.update()
        bar.close()
        tables = vocabulary_tables(CHANNELS)
        for name in TABLES:
            tables.setdefault(name, [])
        for res in results:
            for name, records in res.tables.items():
                tables[name].extend(records)
        table_dir = root / version
        for name in TABLES:
            write_json(table_dir / f"{name}.json", tables[name], indent=0)
        write_json(table_dir / "splits.json", split_scenes(cfg), indent=2)
        if id_masks:
            write_json(root / "id_masks" / "instances.json", {r.name: r.id_map for r in results}, indent=0)
        n_ann = len(tables["sample_annotation"])
        log.info("wrote %d scenes, %d images, %d annotations to %s", len(results),
                 sum(r.n_images for r in results), n_ann, dataroot)
    return dataroot
