"""A tables-only nuScenes set the size of v1.0-trainval, for scale rehearsals without the data.

    python -m nuscmot.synthetic.tables_only --dataroot /tmp/nuscenes-scale [--samples-per-scene 40]

Writes ``<dataroot>/<version>/*.json`` (the 13 nuScenes tables in the release's format),
a placeholder ``maps/*.png`` per map and an empty (0-byte) file for every camera keyframe
(``samples/CAM_*``): ``convert`` only checks that the images exist. Nothing is rendered.

The scenes are the 850 official trainval scenes by name (``nuscenes.utils.splits``), so
``convert`` splits them exactly as real data: 700 official train, 150 official val. At the
default size (40 keyframes a scene, 76 instances a scene, sweeps on) the set has nuScenes'
proportions: 34k samples, ~2.64M ``sample_data`` and ``ego_pose`` rows (camera, lidar and
radar sweeps included), ~1.16M annotations over ~65k instances, 68 logs, 4 maps. Records
are made scene by scene (:mod:`.tables_world`) and streamed to the files, so memory stays
small; the same config gives the same bytes. Tests make a small one (fewer keyframes and
instances, no sweeps) with the same 850 names.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.fields import AT_LEAST_0, check_fields, limited
from nuscmot.common.io import atomic_dir
from nuscmot.synthetic.tables import TABLES, date_captured, fixed_token, log_name, sensor_token, vocabulary_tables
from nuscmot.synthetic.tables_world import (
    SENSORS,
    SceneSpec,
    Tokens,
    annotation_records,
    calibrated_sensors,
    ego_at,
    sample_data_records,
)

log = logging.getLogger(__name__)

BASE_TIMESTAMP = 1531281439800013  # 2018-07-11, when nuScenes' Boston logs start
MAPS = ("boston-seaport", "singapore-onenorth", "singapore-hollandvillage", "singapore-queenstown")
SCENES_PER_LOG = 12.5  # 850 scenes in 68 logs
SEPARATORS = (",\n", ": ")  # one key per line, close to the release's own layout


@dataclass(frozen=True)
class TablesOnlyConfig:
    """Size of the set; the defaults give v1.0-trainval's proportions."""

    seed: int = limited(0, **AT_LEAST_0)
    samples_per_scene: int = limited(40, minimum=2, maximum=400)
    instances_per_scene: int = limited(76, minimum=1, maximum=2000)
    sweeps: bool = True  # camera / lidar / radar sweeps between keyframes (sample_data and ego_pose rows)

    def __post_init__(self) -> None:
        check_fields(self, "tables_only")


def official_scene_names() -> list[str]:
    """The 850 v1.0-trainval scene names (official train + val), sorted."""
    from nuscenes.utils.splits import create_splits_scenes

    lists = create_splits_scenes(verbose=False)
    return sorted(lists["train"] + lists["val"])


class TableWriter:
    """One JSON array per table, written record chunk by record chunk."""

    def __init__(self, stack: ExitStack, table_dir: Path):
        self.files = {name: stack.enter_context(open(table_dir / f"{name}.json", "w", encoding="utf-8"))
                      for name in TABLES}
        self.count = dict.fromkeys(TABLES, 0)
        for fh in self.files.values():
            fh.write("[\n")

    def add(self, name: str, records: list[dict]) -> None:
        if not records:
            return
        text = json.dumps(records, separators=SEPARATORS)[1:-1]
        self.files[name].write((",\n" if self.count[name] else "") + text)
        self.count[name] += len(records)

    def close(self) -> None:
        for fh in self.files.values():
            fh.write("\n]\n")


def scene_specs(cfg: TablesOnlyConfig, names: Sequence[str]) -> tuple[list[SceneSpec], list[dict]]:
    """Every scene's place, and the log records (consecutive scenes share a log, ~12.5 a log)."""
    tok = Tokens(np.random.default_rng([cfg.seed, 1]))
    n_logs = max(1, int(round(len(names) / SCENES_PER_LOG)))
    log_of = (np.arange(len(names)) * n_logs) // len(names)
    log_tokens, scene_tokens = tok.take(n_logs), tok.take(len(names))
    logs, specs = [], []
    for k in range(n_logs):
        start = BASE_TIMESTAMP + k * 86_400_000_000 // 3
        location = MAPS[k % len(MAPS)]
        logs.append({"token": log_tokens[k], "logfile": log_name(start, f"n{15 if k % 2 else 8:03d}"),
                     "vehicle": f"n{15 if k % 2 else 8:03d}", "date_captured": date_captured(start),
                     "location": location})
    for i, name in enumerate(names):
        k = int(log_of[i])
        start = BASE_TIMESTAMP + k * 86_400_000_000 // 3 + (i - int(np.searchsorted(log_of, k))) * 30_000_000
        specs.append(SceneSpec(i, name, scene_tokens[i], log_tokens[k], logs[k]["logfile"], start,
                               cfg.samples_per_scene, cfg.instances_per_scene, cfg.sweeps))
    return specs, logs


def scene_tables(cfg: TablesOnlyConfig, spec: SceneSpec) -> tuple[dict[str, list[dict]], list[str]]:
    """All records of one scene by table, and its camera keyframe file names."""
    rng = np.random.default_rng([cfg.seed, 2, spec.index])
    tok = Tokens(rng)
    sample_us = spec.start_us + np.arange(spec.samples, dtype=np.int64) * 500_000
    sample_us += rng.integers(-2_000, 2_000, size=spec.samples)  # keyframes are not exactly 0.5 s apart
    sample_tokens = tok.take(spec.samples)
    samples = [{"token": t, "timestamp": int(ts), "prev": sample_tokens[k - 1] if k else "",
                "next": sample_tokens[k + 1] if k + 1 < spec.samples else "", "scene_token": spec.token}
               for k, (t, ts) in enumerate(zip(sample_tokens, sample_us))]
    ego_pose, ego_velocity = ego_at(rng, spec)
    cs = calibrated_sensors(rng, tok.take(len(SENSORS)))
    sample_data, ego, key_files = sample_data_records(spec, tok, sample_tokens, sample_us,
                                                      [c["token"] for c in cs], ego_pose)
    anns, instances = annotation_records(rng, tok, spec, sample_tokens, sample_us, ego_pose, ego_velocity)
    scene = {"token": spec.token, "log_token": spec.log_token, "nbr_samples": spec.samples,
             "first_sample_token": sample_tokens[0], "last_sample_token": sample_tokens[-1], "name": spec.name,
             "description": "tables-only scale rehearsal (no sensor data)"}
    tables = {"calibrated_sensor": cs, "ego_pose": ego, "scene": [scene], "sample": samples,
              "sample_data": sample_data, "sample_annotation": anns, "instance": instances}
    return tables, key_files


def map_records(root: Path, logs: list[dict]) -> list[dict]:
    """One map per location, with a small placeholder mask PNG (the devkit checks it exists)."""
    out = []
    ok, png = cv2.imencode(".png", np.zeros((8, 8), dtype=np.uint8))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    for location in MAPS:
        token = fixed_token("tables-only-map", location)
        filename = f"maps/{token}.png"
        (root / filename).write_bytes(png.tobytes())
        out.append({"token": token, "log_tokens": [lg["token"] for lg in logs if lg["location"] == location],
                    "category": "semantic_prior", "filename": filename})
    return [m for m in out if m["log_tokens"]]


def write_tables_only(cfg: TablesOnlyConfig, dataroot: str | Path, version: str = "v1.0-trainval") -> dict[str, int]:
    """Build the set at ``dataroot`` (replaced only once complete); returns the row count of every table."""
    names = official_scene_names()
    specs, logs = scene_specs(cfg, names)
    with atomic_dir(dataroot) as root:
        (root / version).mkdir()
        (root / "maps").mkdir()
        for channel, modality, *_ in SENSORS:
            if modality == "camera":
                (root / "samples" / channel).mkdir(parents=True)
        with ExitStack() as stack:
            out = TableWriter(stack, root / version)
            vocab = vocabulary_tables([])
            for name in ("category", "attribute", "visibility"):
                out.add(name, vocab[name])
            out.add("sensor", [{"token": sensor_token(c), "channel": c, "modality": m} for c, m, *_ in SENSORS])
            out.add("log", logs)
            out.add("map", map_records(root, logs))
            for spec in specs:
                tables, key_files = scene_tables(cfg, spec)
                for name, records in tables.items():
                    out.add(name, records)
                for filename in key_files:
                    (root / filename).touch()
            out.close()
            counts = dict(out.count)
    return counts


def main(argv: Sequence[str] | None = None) -> dict[str, int]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataroot", required=True, type=Path, help="output folder (replaced atomically)")
    p.add_argument("--version", default="v1.0-trainval")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples-per-scene", type=int, default=40)
    p.add_argument("--instances-per-scene", type=int, default=76)
    p.add_argument("--no-sweeps", action="store_true", help="keyframes only (no sweep rows)")
    args = p.parse_args(argv)
    cfg = TablesOnlyConfig(seed=args.seed, samples_per_scene=args.samples_per_scene,
                           instances_per_scene=args.instances_per_scene, sweeps=not args.no_sweeps)
    t0 = time.perf_counter()
    counts = write_tables_only(cfg, args.dataroot, args.version)
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 1), "rows": counts}))
    return counts


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    try:
        main()
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
