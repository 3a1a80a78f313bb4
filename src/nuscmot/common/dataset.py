"""The ``dataset`` config slice: which data the pipeline tracks on.

- ``kind: nuscenes`` (default): a nuScenes(-format) dataroot; ``convert`` lays out the MOT test
  and tuning sequences, the seqmaps, ``splits.json`` and the trajectories.
- ``kind: mot``: any MOTChallenge-layout folder (MOT17, KITTI tracking converted to it):
  ``<mot.root>/<seq>/{seqinfo.ini, gt/gt.txt}``, with MOTChallenge seqmaps (a ``name`` header
  line, then one sequence per line) naming the test and tuning sequences and, optionally, the
  sequences whose GT trains TrackSSM. Nothing is converted: tracking, tuning and evaluation
  read the folder in place.

:func:`mot_layout` checks a ``mot`` dataset when the workflow loads (one-line
:class:`InputError` naming the config key and path). Torch-free: the Snakefile
reads the slice when it is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nuscmot.common.errors import InputError
from nuscmot.common.fields import NON_EMPTY_SET, check_fields, limited
from nuscmot.common.mot import CAM_POSE_FILE, read_seqmap, refuse_test_sequences

KINDS = ("nuscenes", "mot")


@dataclass(frozen=True)
class MotData:
    """The ``dataset.mot`` slice: where a MOTChallenge-layout dataset is (``kind: mot``)."""

    root: str = ""  # folder of <seq>/{seqinfo.ini, gt/gt.txt}
    test_seqmap: str = ""  # the sequences tracked and evaluated
    tune_seqmap: str = ""  # the sequences the sweep tunes on (never a test sequence)
    train_seqmap: str = ""  # optional: the sequences whose GT trains TrackSSM ('' = no TrackSSM)
    # the class column's names: detection files hold 1..len(classes) (checked by check_detections)
    classes: tuple[str, ...] = limited(("pedestrian",), **NON_EMPTY_SET)


@dataclass(frozen=True)
class DatasetConfig:
    """The ``dataset`` slice."""

    kind: str = limited("nuscenes", enum=KINDS)
    dataroot: str = ""  # nuscenes: the dataroot (required for that kind)
    version: str = limited("", pattern="^(v1\\.0-[A-Za-z0-9_-]+)?$")  # nuscenes: table folder, e.g. v1.0-trainval
    synthetic: bool = False  # nuscenes: the dataroot is the synthetic set (synth builds it)
    mot: MotData = field(default_factory=MotData)

    def __post_init__(self) -> None:
        check_fields(self, "dataset")


@dataclass(frozen=True)
class MotLayout:
    """A checked ``mot`` dataset: its folder and the sequences of each seqmap."""

    root: str
    test: tuple[str, ...]
    tune: tuple[str, ...]
    train: tuple[str, ...]  # empty: no training seqmap

    @property
    def sequences(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.test + self.tune + self.train))

    def has_poses(self) -> bool:
        """Every sequence has a camera pose file (ego-motion compensation can run)."""
        return all((Path(self.root) / s / CAM_POSE_FILE).is_file() for s in self.sequences)

    def gt_files(self, names: tuple[str, ...]) -> list[str]:
        return [str(Path(self.root) / s / "gt" / "gt.txt") for s in names]


def _seqmap(root: Path, path: str, key: str) -> tuple[str, ...]:
    """The sequences of one seqmap, each a folder of ``root`` with seqinfo.ini and gt/gt.txt."""
    if not path:
        raise InputError("dataset.mot", f"a mot dataset needs {key}", key=key)
    if not Path(path).is_file():
        raise InputError(path, f"no such seqmap (dataset.mot.{key})", key=f"dataset.mot.{key}")
    names = tuple(read_seqmap(path))
    if not names:
        raise InputError(path, f"seqmap lists no sequences (dataset.mot.{key})")
    for name in names:
        for part in ("seqinfo.ini", "gt/gt.txt"):
            if not (root / name / part).is_file():
                raise InputError(path, f"names sequence {name}, but {root / name / part} does not exist "
                                       f"(dataset.mot.{key})", key=f"dataset.mot.{key}")
    return names


def mot_layout(cfg: DatasetConfig) -> MotLayout:
    """Check a ``mot`` dataset: the folder, every seqmap and every sequence it names; tuning
    and training sequences are never test sequences."""
    mot = cfg.mot
    if not mot.root:
        raise InputError("dataset.mot", "a mot dataset needs root (its folder of sequences)", key="root")
    root = Path(mot.root)
    if not root.is_dir():
        raise InputError(mot.root, "no such folder (dataset.mot.root)", key="dataset.mot.root")
    test = _seqmap(root, mot.test_seqmap, "test_seqmap")
    tune = _seqmap(root, mot.tune_seqmap, "tune_seqmap")
    train = _seqmap(root, mot.train_seqmap, "train_seqmap") if mot.train_seqmap else ()
    for key, names, path in (("tune_seqmap", tune, mot.tune_seqmap), ("train_seqmap", train, mot.train_seqmap)):
        refuse_test_sequences(names, test, path, mot.test_seqmap, "tuning and training never read a test sequence",
                              key=f"dataset.mot.{key}")
    return MotLayout(root=str(root), test=test, tune=tune, train=train)
