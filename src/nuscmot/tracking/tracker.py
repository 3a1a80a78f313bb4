"""ByteTrack-style online tracker; the motion model is plugged in.

One :class:`Tracker` tracks one sequence: it mirrors the ``tracking.association`` config slice
(:class:`~nuscmot.tracking.config.AssociationConfig`), owns the sequence's motion model and
keeps the live tracks' state in one declared table (:class:`Tracks`). Per frame
(:meth:`Tracker.step`), in ByteTrack's reading order (Zhang et al. 2022):

0. with ``ego_compensation`` (and the sequence's camera poses), every track's motion state is
   warped by the homography of the camera's rotation since the previous frame
   (:mod:`nuscmot.tracking.ego`; translation/parallax is not compensated); the motion model
   then predicts every live track's box in one batched call;
1. first association: high-score detections (``score >= track_high_thresh``) against the
   confirmed tracks (tracked and lost), cost ``1 - IoU`` gated at ``match_thresh``;
2. second association: low-score detections (``track_low_thresh < score < track_high_thresh``)
   against the tracks left by step 1 that were tracked in the previous frame, gated at
   ``second_match_thresh``;
3. unconfirmed tracks: tentative tracks against the high-score detections step 1 left, gated
   at ``unconfirmed_match_thresh``; the matches of steps 1-3 are then recorded together
   (:meth:`Tracker._observe`, one batched motion-model correction), and a tentative track
   with ``min_hits`` hits is confirmed (every track of the first frame is confirmed at once);
4. births: high-score detections left after step 3 with ``score >= new_track_thresh`` start
   tentative tracks;
5. reaping: tracked tracks unmatched after step 2 become lost; tentative tracks that missed
   this frame die, lost tracks die after ``max_age_s`` seconds (``round(max_age_s x frame
   rate)`` frames, the rate of the sequence, from its ``seqinfo.ini``), and of a tracked and a
   lost track closer than ``duplicate_thresh`` the younger dies (ByteTrack's
   ``remove_duplicate_stracks``; tracks born this frame take no part); then the output.

With ``per_class`` a track only ever matches detections of its own class. A track re-found
after a gap re-anchors its motion state on the new observation when ``reanchor`` is set.

Output per frame: confirmed tracks matched in that frame, with the matched detection's box
and score (so every motion model is judged on the same boxes) and a public id numbered from
1 in order of confirmation. Detections are processed in a canonical order (score descending,
then box, then class), so output does not depend on the order of lines in the input file.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from nuscmot.tracking.association import Association, associate, duplicate_pairs
from nuscmot.tracking.config import AssociationConfig
from nuscmot.tracking.motion import MotionModel

__all__ = ["AssociationConfig", "FrameDetections", "Tracker", "Tracks", "canonical_order", "max_age_frames",
           "track_sequence"]

TENTATIVE, TRACKED, LOST = 0, 1, 2


def _ints() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass(slots=True)
class Tracks:
    """The live tracks' state, one row per track, rows in ascending internal id."""

    tid: np.ndarray = field(default_factory=_ints)  # internal id (also the motion model's key)
    cls: np.ndarray = field(default_factory=_ints)  # class of the track
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # TENTATIVE | TRACKED | LOST
    hits: np.ndarray = field(default_factory=_ints)  # frames with an observation
    start: np.ndarray = field(default_factory=_ints)  # frame of the first observation
    last: np.ndarray = field(default_factory=_ints)  # frame of the last observation
    public: np.ndarray = field(default_factory=_ints)  # output id, 0 until confirmed
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))  # last observed score
    box: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # last observed box, tlwh

    def __len__(self) -> int:
        return len(self.tid)

    def select(self, rows: np.ndarray) -> Tracks:
        """The rows ``rows`` (indices or a boolean mask) as a new table."""
        return Tracks(*(getattr(self, f.name)[rows] for f in dataclasses.fields(self)))

    def extend(self, other: Tracks) -> Tracks:
        """This table followed by ``other``'s rows."""
        return Tracks(*(np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                        for f in dataclasses.fields(self)))


@dataclass(frozen=True)
class FrameDetections:
    """One frame's detections in :func:`canonical_order`, and the indices of its score bands."""

    boxes: np.ndarray  # (M, 4) tlwh
    scores: np.ndarray  # (M,)
    cls: np.ndarray  # (M,) int64
    high: np.ndarray  # indices with score >= track_high_thresh (first association, births)
    low: np.ndarray  # indices with track_low_thresh < score < track_high_thresh (second association)

    @classmethod
    def split(cls, dets: np.ndarray, cfg: AssociationConfig) -> FrameDetections:
        """``dets`` (M, 6) ``x, y, w, h, score, class`` in any order."""
        dets = canonical_order(np.asarray(dets, dtype=np.float64).reshape(-1, 6))
        scores = dets[:, 4]
        high = np.flatnonzero(scores >= cfg.track_high_thresh)
        low = np.flatnonzero((scores > cfg.track_low_thresh) & (scores < cfg.track_high_thresh))
        return cls(dets[:, :4], scores, dets[:, 5].astype(np.int64), high, low)


class Tracker:
    """Tracks one sequence recorded at ``frame_rate`` frames/s with ``cfg``'s association and
    the ``motion`` model (fresh, holding no track); see the module docstring."""

    __slots__ = ("cfg", "motion", "max_age", "tracks", "frames_seen", "_next_id", "_next_public")

    def __init__(self, cfg: AssociationConfig, motion: MotionModel, frame_rate: float) -> None:
        if not isinstance(cfg, AssociationConfig):
            raise TypeError(f"cfg must be an AssociationConfig, got {type(cfg).__name__}")
        self.cfg: AssociationConfig = cfg
        self.motion: MotionModel = motion
        self.max_age: int = max_age_frames(cfg.max_age_s, frame_rate)  # frames a lost track is kept
        self.tracks: Tracks = Tracks()
        self.frames_seen: int = 0
        self._next_id: int = 1  # next internal id
        self._next_public: int = 1  # next output id

    # -- one frame -----------------------------------------------------------------------
    def step(self, frame: int, dets: np.ndarray, homography: np.ndarray | None = None) -> np.ndarray:
        """Process one frame. ``dets``: (M, 6) ``x, y, w, h, score, class``; ``homography``:
        the (3, 3) pixel map of the camera's rotation since the previous frame, applied to
        every track state before prediction (None: no compensation).

        Returns result rows (K, 10) ``frame, id, x, y, w, h, score, class, -1, -1``.
        """
        d = FrameDetections.split(dets, self.cfg)
        first_frame = self.frames_seen == 0
        self.frames_seen += 1
        pred = self._predict(homography)  # step 0
        high = self._associate_high(pred, d)  # step 1
        low = self._associate_low(pred, d, high)  # step 2
        unconfirmed = self._associate_unconfirmed(pred, d, high)  # step 3
        self._observe(frame, d, (high, low, unconfirmed))
        n_old = len(self.tracks)
        self._births(frame, d, unconfirmed.unmatched_dets, first_frame)  # step 4
        self._reap(frame, pred, low.unmatched_tracks, unconfirmed.unmatched_tracks, n_old)  # step 5
        return self._emit(frame)

    def _predict(self, homography: np.ndarray | None) -> np.ndarray:
        """Step 0: warp every track state by ``homography`` (if given), then predict every
        live track's box for this frame in one batched call; (N, 4) tlwh in row order."""
        if not len(self.tracks):
            return np.zeros((0, 4))
        if homography is not None:
            self.motion.warp(homography)
        return self.motion.predict(self.tracks.tid)

    def _classes(self, d: FrameDetections) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Track and detection classes for the gates, or (None, None) without ``per_class``."""
        return (self.tracks.cls, d.cls) if self.cfg.per_class else (None, None)

    def _associate_high(self, pred: np.ndarray, d: FrameDetections) -> Association:
        """Step 1: the confirmed tracks (tracked and lost) against the high-score detections,
        gated at ``match_thresh``."""
        pool = np.flatnonzero(self.tracks.status != TENTATIVE)
        return associate(pool, d.high, pred, d.boxes, self.cfg.match_thresh, *self._classes(d))

    def _associate_low(self, pred: np.ndarray, d: FrameDetections, high: Association) -> Association:
        """Step 2: the tracks step 1 left that were tracked in the previous frame (a lost track
        is never revived by a low score) against the low-score detections, gated at
        ``second_match_thresh``. The tracks this leaves become lost (step 5)."""
        rest = high.unmatched_tracks
        rest = rest[self.tracks.status[rest] == TRACKED]
        return associate(rest, d.low, pred, d.boxes, self.cfg.second_match_thresh, *self._classes(d))

    def _associate_unconfirmed(self, pred: np.ndarray, d: FrameDetections, high: Association) -> Association:
        """Step 3: the tentative tracks against the high-score detections step 1 left, gated at
        ``unconfirmed_match_thresh``. The tentative tracks this leaves die (step 5), the
        detections it leaves are the candidates for births (step 4)."""
        tentative = np.flatnonzero(self.tracks.status == TENTATIVE)
        return associate(tentative, high.unmatched_dets, pred, d.boxes, self.cfg.unconfirmed_match_thresh,
                         *self._classes(d))

    def _observe(self, frame: int, d: FrameDetections, steps: tuple[Association, ...]) -> None:
        """Record the matches of steps 1-3: each matched track takes the detection's box and
        score (and class, without ``per_class``), counts a hit and is tracked; a tentative
        track reaching ``min_hits`` is confirmed. The motion model is corrected in one batched
        call, in track order: ``update`` for tracks seen in the previous frame, ``reanchor``
        for tracks re-found after a gap (``update`` for all without ``reanchor``)."""
        t = self.tracks
        t_rows = np.concatenate([s.tracks for s in steps])
        d_rows = np.concatenate([s.dets for s in steps])
        order = np.argsort(t.tid[t_rows], kind="stable")
        t_rows, d_rows = t_rows[order], d_rows[order]
        gaps = frame - t.last[t_rows]
        t.last[t_rows] = frame
        t.hits[t_rows] += 1
        t.box[t_rows] = d.boxes[d_rows]
        t.score[t_rows] = d.scores[d_rows]
        if not self.cfg.per_class:
            t.cls[t_rows] = d.cls[d_rows]
        t.status[t_rows] = np.where(t.status[t_rows] == TENTATIVE, TENTATIVE, TRACKED)
        promote = t_rows[(t.status[t_rows] == TENTATIVE) & (t.hits[t_rows] >= self.cfg.min_hits)]
        t.status[promote] = TRACKED
        self._publish(promote)
        if self.cfg.reanchor:
            cont = gaps <= 1
            self.motion.update(t.tid[t_rows[cont]], d.boxes[d_rows[cont]])
            self.motion.reanchor(t.tid[t_rows[~cont]], d.boxes[d_rows[~cont]], gaps[~cont])
        else:
            self.motion.update(t.tid[t_rows], d.boxes[d_rows])

    def _births(self, frame: int, d: FrameDetections, left: np.ndarray, first_frame: bool) -> None:
        """Step 4: every detection ``left`` by step 3 (high-score, in canonical order) scoring
        ``>= new_track_thresh`` starts a track with the next internal ids, tentative unless
        this is the sequence's first frame or ``min_hits <= 1`` (then confirmed at once)."""
        births = left[d.scores[left] >= self.cfg.new_track_thresh]
        n = len(births)
        if not n:
            return
        ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
        self._next_id += n
        confirmed = first_frame or self.cfg.min_hits <= 1
        born = Tracks(
            tid=ids, cls=d.cls[births], status=np.full(n, TRACKED if confirmed else TENTATIVE, np.int8),
            hits=np.ones(n, np.int64), start=np.full(n, frame, np.int64), last=np.full(n, frame, np.int64),
            public=np.zeros(n, np.int64), score=d.scores[births], box=d.boxes[births],
        )
        self.tracks = self.tracks.extend(born)
        if confirmed:
            self._publish(np.arange(len(self.tracks) - n, len(self.tracks)))
        self.motion.start(ids, d.boxes[births])

    def _reap(self, frame: int, pred: np.ndarray, newly_lost: np.ndarray, missed: np.ndarray, n_old: int) -> None:
        """Step 5: the tracks step 2 left become lost; the tentative tracks step 3 left
        (``missed``) die, lost tracks unobserved for more than ``max_age`` frames die, and of a
        tracked and a lost track closer than ``duplicate_thresh`` (last box against prediction)
        the younger dies. Only the ``n_old`` rows that existed before step 4 take part."""
        t = self.tracks
        t.status[newly_lost] = LOST
        dead = np.zeros(len(t), dtype=bool)
        dead[missed] = True
        dead |= (t.status == LOST) & (frame - t.last > self.max_age)
        old = np.arange(len(t)) < n_old
        tracked = np.flatnonzero(old & (t.status == TRACKED) & ~dead)
        lost = np.flatnonzero(old & (t.status == LOST) & ~dead)
        if len(tracked) and len(lost):
            drop_t, drop_l = duplicate_pairs(
                t.box[tracked], t.last[tracked] - t.start[tracked],
                pred[lost], t.last[lost] - t.start[lost], self.cfg.duplicate_thresh,
            )
            dead[tracked[drop_t]] = True
            dead[lost[drop_l]] = True
        if dead.any():
            self.motion.remove(t.tid[dead])
            self.tracks = t.select(~dead)

    def _emit(self, frame: int) -> np.ndarray:
        """Result rows (K, 10) of the confirmed tracks observed in ``frame`` whose box is larger
        than ``min_box_area``, in row order: ``frame, id, x, y, w, h, score, class, -1, -1``."""
        t = self.tracks
        out = np.flatnonzero((t.status == TRACKED) & (t.last == frame))
        out = out[t.box[out, 2] * t.box[out, 3] > self.cfg.min_box_area]
        rows = np.zeros((len(out), 10))
        rows[:, 0] = frame
        rows[:, 1] = t.public[out]
        rows[:, 2:6] = t.box[out]
        rows[:, 6] = t.score[out]
        rows[:, 7] = t.cls[out]
        rows[:, 8:] = -1
        return rows

    def _publish(self, rows: np.ndarray) -> None:
        """Give the not yet published tracks at ``rows`` the next output ids, in internal-id order."""
        t = self.tracks
        rows = rows[t.public[rows] == 0]
        rows = rows[np.argsort(t.tid[rows], kind="stable")]
        t.public[rows] = np.arange(self._next_public, self._next_public + len(rows))
        self._next_public += len(rows)


def max_age_frames(max_age_s: float, frame_rate: float) -> int:
    """Frames a lost track is kept: ``max_age_s`` seconds at ``frame_rate`` frames/s, rounded
    to the nearest frame (halves up), so 15 s is 30 frames at 2 Hz and 180 at 12 Hz."""
    if isinstance(frame_rate, bool) or not isinstance(frame_rate, (int, float)) or not 0 < frame_rate < math.inf:
        raise ValueError(f"frame rate must be a positive number, got {frame_rate!r}")
    return int(math.floor(max_age_s * frame_rate + 0.5))


def canonical_order(dets: np.ndarray) -> np.ndarray:
    """Detections sorted by score (descending), then x, y, w, h, class."""
    if len(dets) < 2:
        return dets
    order = np.lexsort((dets[:, 5], dets[:, 3], dets[:, 2], dets[:, 1], dets[:, 0], -dets[:, 4]))
    return dets[order]


def track_sequence(cfg: AssociationConfig, motion: MotionModel, dets: np.ndarray, n_frames: int, frame_rate: float,
                   homographies: np.ndarray | None = None) -> np.ndarray:
    """Track frames 1..n_frames of one sequence recorded at ``frame_rate`` frames/s
    (``seqinfo.ini``'s ``frameRate``) with ``cfg``'s association and a fresh ``motion`` model.

    ``dets``: MOT det rows (``frame, -1, x, y, w, h, score, class, -1, -1``);
    ``homographies``: (n_frames, 3, 3), row f-1 maps frame f-1's pixels to frame f's
    (:func:`nuscmot.tracking.ego.sequence_homographies`), or None (no compensation).
    Returns MOT result rows (``frame, id, x, y, w, h, score, class, -1, -1``).
    """
    if homographies is not None and np.shape(homographies) != (n_frames, 3, 3):
        raise ValueError(f"homographies must be ({n_frames}, 3, 3), got {np.shape(homographies)}")
    tracker = Tracker(cfg, motion, frame_rate)
    dets = np.asarray(dets, dtype=np.float64).reshape(-1, 10)
    frames = dets[:, 0].astype(np.int64)
    order = np.argsort(frames, kind="stable")
    dets, frames = dets[order], frames[order]
    bounds = np.searchsorted(frames, np.arange(1, n_frames + 2))
    out = []
    for f in range(1, n_frames + 1):
        d = dets[bounds[f - 1]:bounds[f]]
        h = None if homographies is None or f == 1 else homographies[f - 1]
        out.append(tracker.step(f, d[:, [2, 3, 4, 5, 6, 7]], h))
    return np.concatenate(out) if out else np.zeros((0, 10))
