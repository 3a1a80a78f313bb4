"""The resumable training state on disk, one folder per fingerprint, and the RNG states.

A run's state lives in ``<state-dir>/<fingerprint[:16]>/``: ``latest.pth`` is rewritten
atomically (temp file + rename) at the end of every epoch; ``epoch_NNNN.pth`` copies of it
(the newest ``keep`` kept) are hard links where the file system allows; ``best.pth`` is the
best model so far (an exported checkpoint); ``fingerprint.json`` says what the fingerprint
digests (:mod:`.fingerprint`), so a later run can name the fields that differ.

A state is never cleared: another config (or other inputs) starts fresh in its own folder
beside the others, which stay as they are, and going back to that config resumes its state.
A state dir of the layout before these folders (the files directly in ``<state-dir>``, e.g.
the committed ``weights/demo/pretrain_state``) resumes in place when its fingerprint is
the run's; otherwise it is left alone like any other folder.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_path, read_json, write_json
from nuscmot.detector import checkpoint as ckpt_io
from nuscmot.detector.training.fingerprint import differences, digest

log = logging.getLogger(__name__)

STATE_FORMAT = "nuscmot-yolox-state/1"
# what a state holds besides "format", "fingerprint" and "epoch" (tests/reliability checks the set)
STATE_KEYS = ("phase", "model", "model_config", "optimizer", "scaler", "ema", "ema_updates", "best_ap50",
              "best_epoch", "history", "log", "rng")
DOC_FILE = "fingerprint.json"


def state_files(folder: Path) -> list[Path]:
    """Resumable states in ``folder``, newest first: latest.pth, then epoch_NNNN.pth descending."""
    latest = folder / "latest.pth"
    return ([latest] if latest.is_file() else []) + sorted(folder.glob("epoch_*.pth"), reverse=True)


def newest_state(folder: Path, fingerprint: str) -> tuple[dict[str, Any] | None, Path | None]:
    """The newest loadable state of ``fingerprint`` in ``folder`` and its file (or None, None)."""
    for path in state_files(folder):
        try:
            state = ckpt_io.load(path, "training state")
        except InputError as exc:
            log.warning("ignoring unreadable state %s (%s)", path, exc)
            continue
        if state.get("format") == STATE_FORMAT and state.get("fingerprint") == fingerprint:
            return state, path
    return None, None


class StateStore:
    """The state folders of one state dir: find this run's state, save epochs and the best model."""

    def __init__(self, state_dir: Path, doc: dict[str, Any], keep_epoch_ckpts: int = 0):
        self.root = Path(state_dir)
        self.doc = doc
        self.fingerprint = digest(doc)
        self.dir = self.root / self.fingerprint[:16]
        self.keep = keep_epoch_ckpts

    @property
    def latest(self) -> Path:
        return self.dir / "latest.pth"

    @property
    def best(self) -> Path:
        return self.dir / "best.pth"

    def find(self) -> tuple[dict[str, Any] | None, str]:
        """The newest loadable state of this fingerprint (its folder, else a state dir of the
        earlier flat layout, resumed in place) or None, and a line to log."""
        state, path = newest_state(self.dir, self.fingerprint)
        if state is None and state_files(self.root):
            state, path = newest_state(self.root, self.fingerprint)
            if state is not None:
                self.dir = self.root
        if state is not None:
            return state, f"resuming from {path} (epoch {state['epoch']} done)"
        others = self.others()
        kept = f"; other states left untouched: {'; '.join(others)}" if others else ""
        return None, f"fingerprint {self.fingerprint[:16]}: no saved state, starting fresh in {self.dir}{kept}"

    def others(self) -> list[str]:
        """The other states in the state dir, each with what differs from this run's fingerprint."""
        out = []
        folders = sorted(p for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []
        for folder in [self.root, *folders]:
            if folder == self.dir or not (state_files(folder) or (folder / "best.pth").is_file()):
                continue
            out.append(f"{folder} ({self._changed(folder)})")
        return out

    def _changed(self, folder: Path) -> str:
        doc_file = folder / DOC_FILE
        if not doc_file.is_file():
            return "what differs is not recorded"
        try:
            old = read_json(doc_file, "fingerprint record")
        except InputError as exc:
            return f"what differs is unreadable: {exc.problem}"
        if not isinstance(old, dict):
            return f"what differs is unreadable: {doc_file} is not a JSON object"
        changed = differences(old, self.doc)
        return "changed: " + ", ".join(changed) if changed else "same config and inputs"

    def begin(self) -> None:
        """A fresh run's folder, with its ``fingerprint.json`` (nothing else is touched)."""
        write_json(self.dir / DOC_FILE, {"fingerprint": self.fingerprint, **self.doc})

    def save(self, epochs_done: int, parts: dict[str, Any]) -> None:
        """``latest.pth`` = ``parts`` (the :data:`STATE_KEYS`) after ``epochs_done`` epochs,
        plus its ``epoch_NNNN.pth`` copy, the oldest copies beyond ``keep`` removed."""
        missing = set(STATE_KEYS) - set(parts)
        if missing:
            raise ValueError(f"training state lacks {sorted(missing)}")
        ckpt_io.save({"format": STATE_FORMAT, "fingerprint": self.fingerprint, "epoch": epochs_done, **parts},
                     self.latest)
        if self.keep > 0:
            link_or_copy(self.latest, self.dir / f"epoch_{epochs_done:04d}.pth")
            for old in sorted(self.dir.glob("epoch_*.pth"))[: -self.keep]:
                old.unlink(missing_ok=True)

    def save_best(self, state_dict: dict[str, torch.Tensor], model_config: dict[str, Any], **meta: Any) -> None:
        ckpt_io.export(self.best, state_dict, model_config, **meta)


def link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` with ``src``'s content, atomically: a hard link (no second write) where the
    file system allows, else a copy. ``src`` is later replaced by rename, so they never alias."""
    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


# ---- RNG states -------------------------------------------------------------------------
def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_states() -> dict[str, Any]:
    np_state = np.random.get_state()
    states = {
        "python": random.getstate(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].copy()), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, *rest = states["numpy"]
    np.random.set_state((name, keys.numpy(), *rest))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
