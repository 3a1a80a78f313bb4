"""MOTChallenge-style files: gt / det / result text, ``seqinfo.ini``, seqmaps, image lists.

Formats (comma separated, 1-based frames, boxes as left, top, width, height in pixels):

- gt:     ``frame,id,x,y,w,h,1,class,visibility``  (visibility: nuScenes level 1-4)
- det:    ``frame,-1,x,y,w,h,score,class,-1,-1``
- result: ``frame,id,x,y,w,h,score,class,-1,-1``

Readers validate every line and raise :class:`InputError` naming the file and line.
Writers are atomic and format numbers deterministically (byte-identical reruns).
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_open, write_text

CAM_POSE_FILE = "cam_pose.json"  # a sequence folder's camera poses (nuscmot.data.cam_pose's format)

COLUMNS = {
    "gt": ("frame", "id", "x", "y", "w", "h", "conf", "cls", "vis"),
    "det": ("frame", "id", "x", "y", "w", "h", "score", "cls", "u1", "u2"),
    "result": ("frame", "id", "x", "y", "w", "h", "score", "cls", "u1", "u2"),
}
# Columns that must hold integers, per kind.
_INT_COLS = {"gt": (0, 1, 7), "det": (0, 7), "result": (0, 1, 7)}


def read_mot(path: str | Path, kind: str) -> np.ndarray:
    """Read a MOT file into a float64 array of shape (N, len(COLUMNS[kind])).

    An empty file is valid (no rows). A missing file, a wrong column count, a non-numeric
    field, a frame < 1, a non-integer id/class or a negative box size is an InputError.
    """
    if kind not in COLUMNS:
        raise ValueError(f"unknown MOT kind {kind!r}")
    ncol = len(COLUMNS[kind])
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, f"missing {kind} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read {kind} file ({exc})") from None
    rows: list[list[float]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        fields = line.split(",")
        if len(fields) != ncol:
            raise InputError(path, f"expected {ncol} comma-separated columns for {kind}, got {len(fields)}", line=lineno)
        try:
            values = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_number(f))
            raise InputError(path, f"non-numeric field {bad.strip()!r}", line=lineno) from None
        if not all(np.isfinite(values)):
            raise InputError(path, "non-finite value", line=lineno)
        for c in _INT_COLS[kind]:
            if values[c] != int(values[c]):
                raise InputError(path, f"column {COLUMNS[kind][c]} must be an integer, got {fields[c].strip()}", line=lineno)
        if values[0] < 1:
            raise InputError(path, f"frame must be >= 1 (1-based), got {fields[0].strip()}", line=lineno)
        if values[4] < 0 or values[5] < 0:
            raise InputError(path, f"negative box size w={fields[4].strip()} h={fields[5].strip()}", line=lineno)
        rows.append(values)
    if not rows:
        return np.zeros((0, ncol), dtype=np.float64)
    return np.asarray(rows, dtype=np.float64)


def line_of_row(path: str | Path, index: int) -> int:
    """1-based line number of row ``index`` of :func:`read_mot` (which skips blank lines), for
    error messages about a row found after reading."""
    text = Path(path).read_text(encoding="utf-8")
    filled = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    return filled[index]


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def format_mot(rows: np.ndarray, kind: str) -> str:
    """Deterministic text for MOT rows (sorted by frame, then id, then box)."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, len(COLUMNS[kind]))
    if len(rows):
        order = np.lexsort((rows[:, 3], rows[:, 2], rows[:, 1], rows[:, 0]))
        rows = rows[order]
    out = []
    for r in rows:
        box = f"{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f}"
        if kind == "gt":
            out.append(f"{int(r[0])},{int(r[1])},{box},{int(r[6])},{int(r[7])},{int(r[8])}")
        else:
            ident = -1 if kind == "det" else int(r[1])
            out.append(f"{int(r[0])},{ident},{box},{r[6]:.4f},{int(r[7])},-1,-1")
    return "".join(line + "\n" for line in out)


def write_mot(path: str | Path, rows: np.ndarray, kind: str) -> None:
    write_text(path, format_mot(rows, kind))


@dataclass(frozen=True)
class SeqInfo:
    name: str
    length: int
    width: int
    height: int
    frame_rate: float = 2.0
    im_dir: str = "img1"
    im_ext: str = ".jpg"


def write_seqinfo(path: str | Path, info: SeqInfo) -> None:
    text = (
        "[Sequence]\n"
        f"name={info.name}\n"
        f"imDir={info.im_dir}\n"
        f"frameRate={info.frame_rate:g}\n"
        f"seqLength={info.length}\n"
        f"imWidth={info.width}\n"
        f"imHeight={info.height}\n"
        f"imExt={info.im_ext}\n"
    )
    write_text(path, text)


def read_seqinfo(path: str | Path) -> SeqInfo:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "missing seqinfo.ini")
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
        sec = parser["Sequence"]
        return SeqInfo(
            name=sec["name"],
            length=int(sec["seqLength"]),
            width=int(sec["imWidth"]),
            height=int(sec["imHeight"]),
            frame_rate=float(sec.get("frameRate", "2")),
            im_dir=sec.get("imDir", "img1"),
            im_ext=sec.get("imExt", ".jpg"),
        )
    except (configparser.Error, KeyError, ValueError) as exc:
        raise InputError(path, f"malformed seqinfo.ini ({exc!s})") from None


def write_seqmap(path: str | Path, names: list[str]) -> None:
    """MOTChallenge seqmap: a header line ``name`` then one sequence per line."""
    write_text(path, "name\n" + "".join(f"{n}\n" for n in names))


def read_seqmap(path: str | Path) -> list[str]:
    """A MOTChallenge seqmap: the header line ``name``, then one sequence per line (as the
    devkit and TrackEval write them; a UTF-8 byte-order mark and CRLF line ends are accepted)."""
    path = Path(path)
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8-sig").splitlines()]
    except FileNotFoundError:
        raise InputError(path, "missing seqmap") from None
    if not lines or lines[0] != "name":
        raise InputError(path, "seqmap must start with a 'name' header line", line=1)
    names = [ln for ln in lines[1:] if ln]
    if len(set(names)) != len(names):
        raise InputError(path, "duplicate sequence names in seqmap")
    return names



def refuse_test_sequences(names: list[str] | tuple[str, ...], test_names: list[str] | tuple[str, ...],
                          seqmap: str | Path, test_seqmap: str | Path, purpose: str, *, key: str | None = None) -> None:
    """Leak-free by construction: an :class:`InputError` naming ``seqmap`` when any of its
    sequences (``names``) is a test sequence (``test_names``, of ``test_seqmap``); ``purpose``
    says what must never read one."""
    leaked = sorted(set(names) & set(test_names))
    if leaked:
        raise InputError(seqmap, f"lists test sequence(s) {', '.join(leaked[:5])} (in {test_seqmap}): {purpose}",
                         key=key)

def write_image_list(path: str | Path, images: list[str]) -> None:
    """``img1.txt``: one image path per line (relative to the dataroot), frame order."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.writelines(f"{p}\n" for p in images)


def read_image_list(path: str | Path) -> list[str]:
    path = Path(path)
    try:
        return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except FileNotFoundError:
        raise InputError(path, "missing image list") from None


def read_dets(path: str | Path, length: int) -> np.ndarray:
    """One sequence's detections (MOT det format), frames checked against ``length``.

    The one policy for a missing detection file, in every stage that reads detections
    (tracking, sweeps, evaluation): every stage that makes detections writes one file per
    sequence, empty when it found nothing, so an empty file is "no detections" and a missing
    file is an InputError naming it (never a silently empty tracking).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"missing detection file for sequence {path.stem} (an empty file means no detections)")
    rows = read_mot(path, "det")
    check_rows(path, rows, length, unique_ids=False)
    return rows


def check_rows(path: Path, rows: np.ndarray, length: int, *, unique_ids: bool, exempt: np.ndarray | None = None) -> None:
    """Per-sequence checks on read rows: frames within ``length`` (seqinfo.ini) and, with
    ``unique_ids``, no id twice in one frame among the rows not ``exempt`` (a boolean mask: GT
    rows the evaluation ignores may share an id, e.g. -1); the error names the file and line."""
    if not len(rows):
        return
    frames = rows[:, 0].astype(np.int64)
    beyond = np.flatnonzero(frames > length)
    if beyond.size:
        i = int(beyond[0])
        raise InputError(
            path, f"frame {frames[i]} is beyond the sequence length {length} (seqinfo.ini)", line=_line_of_row(path, i)
        )
    if unique_ids:
        ids = rows[:, 1].astype(np.int64)
        order = np.lexsort((ids, frames))
        if exempt is not None:
            order = order[~exempt[order]]
        same = (np.diff(frames[order]) == 0) & (np.diff(ids[order]) == 0)
        if same.any():
            i = int(order[np.flatnonzero(same)[0] + 1])
            raise InputError(path, f"id {ids[i]} appears twice in frame {frames[i]}", line=_line_of_row(path, i))


def _line_of_row(path: Path, row: int) -> int | None:
    """1-based line number of the ``row``-th data row (``read_mot`` skips blank lines)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    seen = -1
    for lineno, line in enumerate(lines, start=1):
        if line.strip():
            seen += 1
            if seen == row:
                return lineno
    return None
