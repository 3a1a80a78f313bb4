"""Atomic writes: a temp file in the same folder, fsync, then ``os.replace``.

A reader never sees a half-written file, and a crash leaves the previous version intact.
A writer killed mid-write (SIGKILL, power loss) leaves its temp file (``.<name>.*.tmp``)
behind; the next write of the same path removes it (one writer per path, as under
Snakemake).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from nuscmot.common.errors import InputError, OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_leftovers(path: Path) -> None:
    """Remove what a killed writer of ``path`` left: ``.<name>.*.tmp`` and ``.<name>.old.<pid>``."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*"):
        rest = stale.name[len(path.name) + 2 :]
        if stale.name.endswith(".tmp") or rest.startswith("old."):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)


def _raise_if_unwritable(exc: OSError, tmp: Path, path: Path) -> None:
    """A failed write of ``tmp`` (disk full, ...) -> one-line OutputError naming ``path``."""
    if exc.filename is None or str(exc.filename).startswith(str(tmp)):
        raise OutputError(path, f"cannot write ({exc.strerror or exc})") from None


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get normal modes
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except OSError as exc:
        _raise_if_unwritable(exc, tmp_path, path)
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[Any]:
    """``open`` that writes to a temp file and renames it onto ``path`` on success."""
    if not any(m in mode for m in "wx"):
        raise ValueError("atomic_open is for writing")
    with atomic_path(path) as tmp:
        with open(tmp, mode.replace("x", "w"), **kwargs) as fh:
            yield fh


def save_torch(obj: Any, path: str | Path) -> None:
    """``torch.save`` through a temp file + rename.

    torch's C++ zip writer reports a failed write (disk full, file size limit) as a
    ``RuntimeError`` ("[enforce fail at inline_container.cc] . unexpected pos ..."), not as an
    ``OSError``; it becomes the same one-line ``OutputError`` naming ``path``.

    torch names the archive's root folder after the file it is given (here the random temp
    name) but ``archive`` for an open file, so writing through a file handle makes the same
    object give the same bytes.
    """
    import torch  # lazily: this module stays importable without torch

    with atomic_path(path) as tmp:
        try:
            with open(tmp, "wb") as fh:
                torch.save(obj, fh)
        except OSError as exc:  # a failed write to our own handle (disk full, file size limit)
            raise OutputError(path, f"cannot write ({exc.strerror or exc})") from None
        except RuntimeError as exc:
            reason = " ".join(str(exc).split())[:160]
            raise OutputError(path, f"cannot write (torch.save failed, disk full or file too large? {reason})") from None


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_json(path: str | Path, obj: Any, *, indent: int | None = 2) -> None:
    """Deterministic JSON (sorted keys, trailing newline), written atomically."""
    text = json.dumps(obj, indent=indent, sort_keys=True)  # one shot: json's C encoder (json.dump is pure Python)
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.write("\n")


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Build a directory under a temp name and swap it into place on success.

    An existing directory at ``path`` is replaced only once the new one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
    try:
        try:
            yield tmp
        except OSError as exc:
            _raise_if_unwritable(exc, tmp, path)
            raise
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old.{os.getpid()}")
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_json(path: str | Path, what: str = "JSON file", missing: str | None = None) -> Any:
    """A JSON document. The one policy for a bad file, as one InputError naming it: absent ->
    ``missing`` (default 'missing <what>'); unreadable or not JSON -> 'cannot read <what> (...)'."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, missing or f"missing {what}") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"cannot read {what}: corrupt JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read {what} ({exc})") from None


def csv_cell(value: Any) -> str:
    """A CSV cell: '' for None, 6 decimals for a float, str() for the rest."""
    if value is None:
        return ""
    return f"{value:.6f}" if isinstance(value, float) else str(value)


def write_csv(path: str | Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A CSV table (header ``columns``, '\\n' line ends), written atomically; rows hold the
    cell values in column order, formatted by :func:`csv_cell`."""
    import csv

    with atomic_open(Path(path), "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(v) for v in row])
