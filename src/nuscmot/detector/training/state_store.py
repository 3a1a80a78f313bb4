"""The resumable training state on disk, and the RNG states it carries.

``<state-dir>/latest.pth`` is rewritten atomically (temp file + rename) at the end of every
epoch; ``epoch_NNNN.pth`` copies of it (the newest ``keep`` kept) are hard links where the
file system allows; ``best.pth`` is the best model so far (an exported checkpoint). A state
resumes only under the run's fingerprint (:mod:`.fingerprint`).
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
from nuscmot.common.io import atomic_path
from nuscmot.detector import checkpoint as ckpt_io

log = logging.getLogger(__name__)

STATE_FORMAT = "nuscmot-yolox-state/1"
# what a state holds besides "format", "fingerprint" and "epoch" (tests/reliability checks the set)
STATE_KEYS = ("phase", "model", "model_config", "optimizer", "scaler", "ema", "ema_updates", "best_ap50",
              "best_epoch", "history", "log", "rng")


class StateStore:
    """The state folder of one run: find the state to resume, save epochs and the best model."""

    def __init__(self, state_dir: Path, fingerprint: str, keep_epoch_ckpts: int = 0):
        self.dir = Path(state_dir)
        self.fingerprint = fingerprint
        self.keep = keep_epoch_ckpts

    @property
    def latest(self) -> Path:
        return self.dir / "latest.pth"

    @property
    def best(self) -> Path:
        return self.dir / "best.pth"

    def files(self) -> list[Path]:
        """Resumable states, newest first: latest.pth, then epoch_NNNN.pth descending."""
        files = [self.latest] if self.latest.is_file() else []
        return files + sorted(self.dir.glob("epoch_*.pth"), reverse=True)

    def find(self) -> tuple[dict[str, Any] | None, str]:
        """The newest loadable state with this run's fingerprint (or None) and a reason to log."""
        for path in self.files():
            try:
                state = ckpt_io.load(path, "training state")
            except InputError as exc:
                log.warning("ignoring unreadable state %s (%s)", path, exc)
                continue
            if state.get("format") != STATE_FORMAT:
                continue
            if state.get("fingerprint") != self.fingerprint:
                return None, f"state in {self.dir} is from a different config/input (fingerprint changed): starting fresh"
            return state, f"resuming from {path} (epoch {state['epoch']} done)"
        return None, "no saved state: starting fresh"

    def clear(self) -> None:
        for path in [*self.dir.glob("epoch_*.pth"), self.latest, self.best]:
            path.unlink(missing_ok=True)

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
