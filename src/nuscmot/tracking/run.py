"""One tracking run: every test sequence through the shared ByteTrack association
(:mod:`nuscmot.tracking.tracker`) with one motion model of the registry
(:mod:`nuscmot.tracking.models`: its factory builds a fresh model per sequence, a learned one
from its checkpoint), under the settings of the config or of a sweep's best.json, with or
without ego-motion compensation."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, read_json, write_json
from nuscmot.common.mot import read_seqmap, write_mot
from nuscmot.tracking.config import AssociationConfig
from nuscmot.tracking.inputs import camera_homographies, read_detections, read_sequence
from nuscmot.tracking.models import motion_factory
from nuscmot.tracking.motion import MotionFactory
from nuscmot.tracking.scores import ScoreTransform
from nuscmot.tracking.tracker import track_sequence

log = logging.getLogger(__name__)
SETTINGS_FILE = "settings.json"  # in the output folder: the settings used and where they came from


@dataclass(frozen=True)
class SequenceInput:
    """One sequence's checked tracking inputs: seqinfo, detections (scores transformed), and the
    ego-motion homographies where compensation is on."""

    name: str
    seqinfo: Path
    info: SeqInfo
    dets: np.ndarray
    warps: np.ndarray | None = None
    motions: tuple[MotionModel, ...] = ()  # one fresh model per factory of check_sequences


def read_input(mot_dir: Path, dets_dir: Path, name: str, transform: ScoreTransform, ego: bool) -> SequenceInput:
    """Read and check one sequence's seqinfo.ini, detections (and camera poses with ``ego``)."""
    seqinfo = mot_dir / name / "seqinfo.ini"
    info = read_sequence(seqinfo)
    dets = read_detections(dets_dir / f"{name}.txt", info, transform)
    warps = camera_homographies(mot_dir / name, info) if ego else None
    return SequenceInput(name, seqinfo, info, dets, warps)


MAX_LISTED = 10  # failures named in check_sequences' error


def check_sequences(names: list[str], mot_dir: Path, dets_dir: Path, transform: ScoreTransform,
                    factories: list[MotionFactory], ego: bool, where: str | Path) -> dict[str, SequenceInput]:
    """Every sequence's inputs, checked before any is tracked: its seqinfo.ini, detection file and
    a motion model from each factory (which refuses what its model cannot track, e.g. TrackSSM's
    frame rate or image size). One failure is raised as it is; several are one InputError naming
    ``where``: ``3 of 11 sequences cannot be tracked: A (...); B (...)``. Each input keeps the
    models built (``motions``, in factory order), so each is built, checked and logged once."""
    inputs, failures = {}, []
    for name in names:
        try:
            seq = read_input(mot_dir, dets_dir, name, transform, ego)
            motions = tuple(make(seq.info, seq.seqinfo) for make in factories)
            inputs[name] = dataclasses.replace(seq, motions=motions)
        except InputError as exc:
            failures.append((name, exc))
    if len(failures) == 1:
        raise failures[0][1]
    if failures:
        listed = "; ".join(f"{name} ({exc})" for name, exc in failures[:MAX_LISTED])
        more = f"; and {len(failures) - MAX_LISTED} more" if len(failures) > MAX_LISTED else ""
        raise InputError(where, f"{len(failures)} of {len(names)} sequences cannot be tracked: {listed}{more}")
    return inputs


def track_input(association: AssociationConfig, motion: MotionModel, seq: SequenceInput) -> tuple[np.ndarray, float]:
    """One checked sequence with a fresh ``motion`` model: (result rows, seconds spent tracking)."""
    t0 = time.perf_counter()
    warps = seq.warps if association.ego_compensation else None
    rows = track_sequence(association, motion, seq.dets, seq.info.length, seq.info.frame_rate, warps)
    return rows, time.perf_counter() - t0


def tuned_settings(path: Path, source: str, tracker: str) -> dict[str, Any]:
    """The tuned association and motion slices of ``tracker`` on ``source`` from a sweep's best.json."""
    doc = read_json(path)
    try:
        best = doc["sources"][source][tracker]
        selection = {k: best[k] for k in ("chosen", "best_cell", "config_cell", "beats_config", "reason") if k in best}
        return {"association": dict(best["association"]), "motion": dict(best["motion"]), "cell": best["cell"],
                "split": doc.get("split", "tune"), "selection": selection or None}
    except (KeyError, TypeError):
        raise InputError(path, f"holds no tuned settings of {tracker} on {source} detections (rerun sweep_tracking)") from None


def settings(params: dict[str, Any], tracker: str, tuned: Path | None, source: str | None, ego: str | None) -> dict:
    """The association and motion slices this run uses, and where they come from."""
    out = {"association": dict(params.get("cfg") or {}), "motion": dict(params.get("motion") or {}), "origin": "config"}
    if tuned is not None:
        if not source:
            raise InputError("--source", "--tuned needs the detection source (--source detector|gt)")
        best = tuned_settings(tuned, source, tracker)
        out.update(association=best["association"], motion=best["motion"],
                   origin=f"tuned on {best['split']} ({best['cell']})", tuned_from=str(tuned), selection=best["selection"])
    if ego is not None:
        base = bool(out["association"].get("ego_compensation", False))
        out["association"]["ego_compensation"] = {"on": True, "off": False, "flip": not base}[ego]
        out["origin"] += f", ego_compensation {ego}"
    return out


@dataclass(frozen=True)
class TrackingPaths:
    """A tracking run's inputs (detections ``<seq>.txt``, MOT folder with ``<seq>/seqinfo.ini``,
    seqmap, a learned model's checkpoint) and output folder."""

    dets_dir: Path
    mot_dir: Path
    seqmap: Path
    out_dir: Path
    model: str | None = None


def run_tracker(tracker: str, source: str | None, used: dict[str, Any], transform: ScoreTransform,
                paths: TrackingPaths) -> None:
    """Track every seqmap sequence with ``tracker`` under the ``used`` settings (:func:`settings`;
    ``source``: the detection source, recorded); write one MOT result file per sequence and the
    settings file."""
    from tqdm import tqdm

    association = from_dict(AssociationConfig, used["association"], where="tracking.association")
    make_motion = motion_factory(tracker, used["motion"], paths.model)
    if not paths.dets_dir.is_dir():
        raise InputError(paths.dets_dir, "detections folder does not exist")
    names = read_seqmap(paths.seqmap)
    inputs = check_sequences(names, paths.mot_dir, paths.dets_dir, transform, [make_motion],
                             association.ego_compensation, paths.seqmap)
    frames, seconds = 0, 0.0
    with atomic_dir(paths.out_dir) as tmp:
        for name in tqdm(names, desc=f"track {tracker}", leave=False):
            rows, dt = track_input(association, inputs[name].motions[0], inputs[name])
            frames, seconds = frames + inputs[name].info.length, seconds + dt
            write_mot(tmp / f"{name}.txt", rows, "result")
        write_json(tmp / SETTINGS_FILE, {"tracker": tracker, "source": source, **used})
    log.info("%s%s: %d sequences, %d frames, %.0f frames/s (tracking only); settings: %s", tracker,
             " (ego-motion compensated)" if association.ego_compensation else "", len(names), frames,
             frames / max(seconds, 1e-9), used["origin"])
