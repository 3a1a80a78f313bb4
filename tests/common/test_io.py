"""Atomic writes: all or nothing, normal permissions, no temp files left."""

from __future__ import annotations

import os
import stat

import pytest

from nuscmot.common.io import atomic_dir, atomic_open, write_json


def test_atomic_open_replaces_only_on_success(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(path) as fh:
            fh.write("half")
            raise RuntimeError("crash mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with atomic_open(path) as fh:
        fh.write("new")
    assert path.read_text() == "new"


def test_atomic_dir_swaps_whole_folder(tmp_path):
    out = tmp_path / "dets"
    with atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("1")
    with pytest.raises(ValueError):
        with atomic_dir(out) as tmp:
            (tmp / "b.txt").write_text("2")
            raise ValueError
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dets"]


def test_outputs_get_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "x.json", {"b": 1, "a": 2})
        with atomic_dir(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
    assert (tmp_path / "x.json").read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'


def test_save_torch_failure_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch):
    """torch's zip writer reports a failed write as RuntimeError; it becomes an OutputError."""
    torch = pytest.importorskip("torch")
    from nuscmot.common.errors import OutputError
    from nuscmot.common.io import save_torch

    path = tmp_path / "ckpt.pth"
    save_torch({"w": torch.ones(2)}, path)

    def failing_save(obj, f, *args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0\nmore")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OutputError) as err:
        save_torch({"w": torch.zeros(2)}, path)
    assert str(err.value).startswith(f"{path}: cannot write") and "\n" not in str(err.value)
    assert torch.equal(torch.load(path)["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pth"]
