"""One-line user-facing errors.

Every error a user can cause with bad input is raised as :class:`InputError`, whose
message names the file (and line or key where known) and the problem, on one line.
Entry points (see :func:`nuscmot.common.cli.run`) print it and exit with status 2.
"""

from __future__ import annotations

from pathlib import Path


class NuscmotError(Exception):
    """Base class of the errors an entry point reports as one line."""

    exit_code = 2


class InputError(NuscmotError):
    """Bad input: ``<file>[:<line>|[<key>]]: <problem>``."""

    def __init__(self, path: str | Path, problem: str, *, line: int | None = None, key: str | None = None):
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # force a single line
        self.line = line
        self.key = key
        where = self.path
        if line is not None:
            where += f":{line}"
        if key is not None:
            where += f" [{key}]"
        super().__init__(f"{where}: {self.problem}")


class OutputError(NuscmotError):
    """An output cannot be written (disk full, quota, read-only): ``<file>: <problem>``."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")


class TrainingError(NuscmotError):
    """Training cannot go on (e.g. a non-finite loss); the last good checkpoint is kept."""
