"""Atomic writes: all or nothing, normal permissions, no temp files left."""

from __future__ import annotations

import os
import stat

import pytest

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, atomic_open, csv_cell, read_json, write_csv, write_json
from nuscmot.common.mot import read_dets


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


def test_write_csv_formats_every_cell_one_way(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, ["a", "b", "c", "d"], [[1, 0.5, None, "x"], [True, 1 / 3, "", 2.0]])
    assert path.read_text() == "a,b,c,d\n1,0.500000,,x\nTrue,0.333333,,2.000000\n"
    assert csv_cell(None) == "" and csv_cell(3) == "3"


def test_read_json_policy(tmp_path):
    path = tmp_path / "m.json"
    with pytest.raises(InputError, match=r"m\.json: missing metrics JSON"):
        read_json(path, "metrics JSON")
    with pytest.raises(InputError, match="missing metrics file"):
        read_json(path, "metrics JSON", missing="missing metrics file")
    path.write_text('{"a": 1,')
    with pytest.raises(InputError, match=r"cannot read metrics JSON: corrupt JSON \(.* at line 1 column \d+\)"):
        read_json(path, "metrics JSON")
    path.write_text('{"a": 1}')
    assert read_json(path) == {"a": 1}


def test_missing_detection_file_is_an_error_and_empty_is_no_detections(tmp_path):
    with pytest.raises(InputError, match=r"scene-1\.txt: missing detection file for sequence scene-1"):
        read_dets(tmp_path / "scene-1.txt", 10)
    (tmp_path / "scene-1.txt").write_text("")
    assert read_dets(tmp_path / "scene-1.txt", 10).shape == (0, 10)
    (tmp_path / "scene-1.txt").write_text("1,-1,1,1,5,5,0.9,1,-1,-1\n11,-1,1,1,5,5,0.9,1,-1,-1\n")
    with pytest.raises(InputError, match=r"scene-1\.txt:2: frame 11 is beyond the sequence length 10"):
        read_dets(tmp_path / "scene-1.txt", 10)


def test_save_torch_is_byte_reproducible(tmp_path):
    """The same object saved twice (each through its own random temp file) gives the same bytes."""
    import torch

    from nuscmot.common.io import save_torch

    obj = {"w": torch.arange(6.0).reshape(2, 3), "meta": {"epoch": 3}}
    save_torch(obj, tmp_path / "a.pt")
    save_torch(obj, tmp_path / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    assert torch.equal(torch.load(tmp_path / "a.pt")["w"], obj["w"])
