"""The nuScenes devkit as ``convert`` uses it: the tables loaded with bad files named (and the
cyclic garbage collector paused meanwhile), and the rows it never reads freed right after.

``NuScenes(...)`` holds every table in memory; on v1.0-trainval most of it is sweeps (camera,
lidar and radar frames between keyframes: ~2.4M of the ~2.6M ``sample_data`` rows, and as
many ``ego_pose`` rows). ``convert`` reads keyframes only, so :func:`drop_sweeps` frees those
rows before the extraction, which then adds its records to a smaller heap than the load's peak.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

from nuscmot.common.errors import InputError


def load_nuscenes(dataroot: str | Path, version: str):
    """``NuScenes(version, dataroot, verbose=False)``; missing or broken input -> InputError naming the file."""
    dataroot = Path(dataroot)
    if not dataroot.is_dir():
        raise InputError(dataroot, "dataroot does not exist (or is not a folder)")
    table_root = dataroot / version
    if not table_root.is_dir():
        raise InputError(table_root, f"missing version folder {version!r} in the dataroot")

    from nuscenes.nuscenes import NuScenes

    class _CheckedNuScenes(NuScenes):
        # The devkit's table loader, with the failing file named (its JSONDecodeError does not).
        def __load_table__(self, table_name):  # noqa: N802 (devkit's name; not name-mangled)
            path = Path(self.table_root) / f"{table_name}.json"
            try:
                return super().__load_table__(table_name)
            except FileNotFoundError:
                raise InputError(path, "missing nuScenes table file") from None
            except json.JSONDecodeError as exc:
                raise InputError(path, f"corrupt table JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
            except UnicodeDecodeError as exc:
                raise InputError(path, f"table is not UTF-8 text ({exc.reason})") from None
            except OSError as exc:
                raise InputError(path, f"cannot read table ({exc.strerror})") from None

    collecting = gc.isenabled()
    gc.disable()  # tens of millions of new long-lived objects: the collector's passes find nothing (~15% of the load)
    try:
        return _CheckedNuScenes(version=version, dataroot=str(dataroot), verbose=False)
    except InputError:
        raise
    except AssertionError as exc:  # devkit checks, e.g. a missing map mask file
        raise InputError(table_root, f"nuScenes devkit rejected the dataset ({exc})") from None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(table_root, f"malformed nuScenes tables ({type(exc).__name__}: {exc})") from None
    finally:
        if collecting:
            gc.enable()


def drop_sweeps(nusc) -> int:
    """Free the ``sample_data`` rows that are not keyframes and the ``ego_pose`` rows only they use.

    Rows become ``None`` in place, so the devkit's token -> row maps stay valid for the kept
    rows (every ``sample["data"]`` token is a keyframe's). Returns the number of rows freed.
    """
    keep: set[str] = set()
    freed = 0
    rows = nusc.sample_data
    for i, rec in enumerate(rows):
        if rec["is_key_frame"]:
            keep.add(rec["ego_pose_token"])
        else:
            rows[i] = None
            freed += 1
    poses = nusc.ego_pose
    for i, rec in enumerate(poses):
        if rec["token"] not in keep:
            poses[i] = None
            freed += 1
    return freed
