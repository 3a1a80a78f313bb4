"""The atomic-write layer under faults (``nuscmot.common.io``), fast and in process:
temp files of a killed writer are removed by the next write of the same output, and a
failed write (disk full) is one error line naming the output, not a traceback."""

from __future__ import annotations

import errno
import os

import pytest

from nuscmot.common import cli
from nuscmot.common.errors import OutputError
from nuscmot.common.io import atomic_dir, atomic_open, atomic_path, write_text

from .harness import leftovers


def test_next_write_removes_what_a_killed_writer_left(tmp_path):
    # what SIGKILL leaves: temp files/folders of atomic_path / atomic_dir, an old folder mid-swap
    (tmp_path / ".out.txt.k3j_x9.tmp").write_text("half")
    (tmp_path / ".dets.a8f2.tmp").mkdir()
    (tmp_path / ".dets.a8f2.tmp" / "scene-0001.txt").write_text("half")
    (tmp_path / ".dets.old.4242").mkdir()
    # not leftovers of these outputs
    (tmp_path / ".out.txt.bak").write_text("keep")
    (tmp_path / ".out.txt2.zz.tmp").write_text("keep")
    (tmp_path / ".detsx.a8f2.tmp").write_text("keep")

    write_text(tmp_path / "out.txt", "whole\n")
    with atomic_dir(tmp_path / "dets") as tmp:
        (tmp / "scene-0001.txt").write_text("whole\n")

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".detsx.a8f2.tmp", ".out.txt.bak", ".out.txt2.zz.tmp", "dets", "out.txt"]
    assert (tmp_path / "out.txt").read_text() == "whole\n"
    assert (tmp_path / "dets" / "scene-0001.txt").read_text() == "whole\n"


def test_disk_full_is_an_output_error_naming_the_file(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("previous\n")
    with pytest.raises(OutputError) as err:
        with atomic_open(path) as fh:
            fh.write("partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a write() on a full disk
    assert str(err.value) == f"{path}: cannot write ({os.strerror(errno.ENOSPC)})"
    assert path.read_text() == "previous\n"
    assert leftovers(tmp_path) == []


def test_disk_full_inside_an_atomic_dir(tmp_path):
    out = tmp_path / "detections"
    with pytest.raises(OutputError, match=rf"^{out}: cannot write \(Disk quota exceeded\)$"):
        with atomic_dir(out) as tmp:
            raise OSError(errno.EDQUOT, "Disk quota exceeded", str(tmp / "scene-0001.txt"))
    assert not out.exists() and leftovers(tmp_path) == []


def test_an_input_error_inside_the_block_is_not_blamed_on_the_output(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_path(tmp_path / "copy.bin") as tmp:
            with open(tmp_path / "missing-input.bin", "rb") as src:
                tmp.write_bytes(src.read())
    assert leftovers(tmp_path) == []


def test_cli_reports_an_output_error_in_one_line(tmp_path, capsys):
    def main(argv):
        with atomic_open(tmp_path / "out.txt") as fh:
            fh.write("x")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(SystemExit) as exit_:
        cli.run(main, [])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: {tmp_path / 'out.txt'}: cannot write ({os.strerror(errno.ENOSPC)})"
