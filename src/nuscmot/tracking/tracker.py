"""ByteTrack-style online tracker; the motion model is plugged in.

Per frame (ByteTrack, Zhang et al. 2022):

0. with ``ego_compensation`` (and the sequence's camera poses), every track's motion state
   is first warped by the homography of the camera's rotation since the previous frame
   (:mod:`nuscmot.tracking.ego`; translation/parallax is not compensated);
1. the motion model predicts every live track's box in one batched call;
2. first association: high-score detections (``score >= track_high_thresh``) against the
   confirmed tracks (tracked and lost), cost ``1 - IoU`` gated at ``match_thresh``;
3. second association: low-score detections (``track_low_thresh < score < track_high_thresh``)
   against the confirmed tracks still unmatched that were tracked in the previous frame,
   gated at ``second_match_thresh``;
4. tentative tracks against the high-score detections left, gated at
   ``unconfirmed_match_thresh``; a tentative track that misses a frame dies; one with
   ``min_hits`` hits is confirmed (every track of the first frame is confirmed at once);
5. unmatched tracked tracks become lost; lost tracks keep being predicted for ``max_age_s``
   seconds (``round(max_age_s x frame rate)`` frames, the rate given per sequence to
   :meth:`Tracker.reset`, from its ``seqinfo.ini``) and can be re-found, then die;
   high-score detections left with
   ``score >= new_track_thresh`` start tentative tracks;
6. ByteTrack's duplicate removal between tracked and lost tracks.

With ``per_class`` a track only ever matches detections of its own class. A track re-found
after a gap re-anchors its motion state on the new observation when ``reanchor`` is set.

Output per frame: confirmed tracks matched in that frame, with the matched detection's box
and score (so every motion model is judged on the same boxes) and a public id numbered from
1 in order of confirmation. Detections are processed in a canonical order (score descending,
then box, then class), so output does not depend on the order of lines in the input file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nuscmot.common.errors import InputError
from nuscmot.tracking.association import duplicate_pairs, iou_distance, linear_assignment
from nuscmot.tracking.motion import MotionModel

TENTATIVE, TRACKED, LOST = 0, 1, 2


@dataclass
class Tracker:
    """Association thresholds mirror the ``tracking.association`` config slice."""

    track_high_thresh: float = 0.5
    track_low_thresh: float = 0.1
    new_track_thresh: float = 0.6
    match_thresh: float = 0.8
    second_match_thresh: float = 0.5
    unconfirmed_match_thresh: float = 0.7
    min_hits: int = 2
    max_age_s: float = 15.0
    per_class: bool = True
    reanchor: bool = True
    min_box_area: float = 10.0
    duplicate_thresh: float = 0.15
    ego_compensation: bool = False  # warp track states by the camera rotation (needs cam_pose.json)

    motion: MotionModel | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("track_high_thresh", "track_low_thresh", "new_track_thresh", "match_thresh",
                     "second_match_thresh", "unconfirmed_match_thresh", "duplicate_thresh"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise InputError("tracking.association", f"must be a number in [0, 1], got {value!r}", key=name)
        if isinstance(self.min_hits, bool) or not isinstance(self.min_hits, int) or self.min_hits < 1:
            raise InputError("tracking.association", "must be an integer >= 1", key="min_hits")
        age = self.max_age_s
        if isinstance(age, bool) or not isinstance(age, (int, float)) or not 0.0 <= age < math.inf:
            raise InputError("tracking.association", f"must be a number of seconds >= 0, got {age!r}", key="max_age_s")
        if self.track_low_thresh > self.track_high_thresh:
            raise InputError("tracking.association", "track_low_thresh exceeds track_high_thresh", key="track_low_thresh")
        self.max_age = 0
        self._clear()

    # -- state ---------------------------------------------------------------------------
    def reset(self, motion: MotionModel, frame_rate: float) -> None:
        """Start a new sequence (``frame_rate`` frames/s, from its ``seqinfo.ini``) with a
        fresh motion model."""
        self.max_age = max_age_frames(self.max_age_s, frame_rate)
        self._clear()
        self.motion = motion

    def _clear(self) -> None:
        self.motion = None
        self.frames_seen = 0
        self._next_id = 1
        self._next_public = 1
        self.tid = np.zeros(0, dtype=np.int64)  # internal id, sorted ascending
        self.cls = np.zeros(0, dtype=np.int64)
        self.status = np.zeros(0, dtype=np.int8)
        self.hits = np.zeros(0, dtype=np.int64)
        self.start = np.zeros(0, dtype=np.int64)
        self.last = np.zeros(0, dtype=np.int64)  # frame of the last observation
        self.public = np.zeros(0, dtype=np.int64)  # 0 until confirmed
        self.score = np.zeros(0)
        self.box = np.zeros((0, 4))  # last observed box, tlwh

    def _keep(self, keep: np.ndarray) -> None:
        for name in ("tid", "cls", "status", "hits", "start", "last", "public", "score", "box"):
            setattr(self, name, getattr(self, name)[keep])

    # -- one frame -----------------------------------------------------------------------
    def step(self, frame: int, dets: np.ndarray, homography: np.ndarray | None = None) -> np.ndarray:
        """Process one frame. ``dets``: (M, 6) ``x, y, w, h, score, class``; ``homography``:
        the (3, 3) pixel map of the camera's rotation since the previous frame, applied to
        every track state before prediction (None: no compensation).

        Returns result rows (K, 10) ``frame, id, x, y, w, h, score, class, -1, -1``.
        """
        if self.motion is None:
            raise RuntimeError("Tracker.reset(motion, frame_rate) must be called before step()")
        dets = canonical_order(np.asarray(dets, dtype=np.float64).reshape(-1, 6))
        boxes, scores, dcls = dets[:, :4], dets[:, 4], dets[:, 5].astype(np.int64)
        first_frame = self.frames_seen == 0
        self.frames_seen += 1

        if homography is not None and len(self.tid):
            self.motion.warp(homography)
        pred = self.motion.predict(self.tid) if len(self.tid) else np.zeros((0, 4))
        high = np.flatnonzero(scores >= self.track_high_thresh)
        low = np.flatnonzero((scores > self.track_low_thresh) & (scores < self.track_high_thresh))
        track_rows: list[np.ndarray] = []
        det_rows: list[np.ndarray] = []

        # First association: confirmed tracks (tracked + lost) vs high-score detections.
        pool = np.flatnonzero(self.status != TENTATIVE)
        m, un_pool, un_high = self._match(pool, pred, high, boxes, dcls, self.match_thresh)
        track_rows.append(pool[m[:, 0]])
        det_rows.append(high[m[:, 1]])
        # Second association: the remaining tracked tracks vs low-score detections.
        rest = pool[un_pool]
        rest = rest[self.status[rest] == TRACKED]
        m, un_rest, _ = self._match(rest, pred, low, boxes, dcls, self.second_match_thresh)
        track_rows.append(rest[m[:, 0]])
        det_rows.append(low[m[:, 1]])
        newly_lost = rest[un_rest]
        # Tentative tracks vs the high-score detections left.
        tentative = np.flatnonzero(self.status == TENTATIVE)
        left = high[un_high]
        m, un_tent, un_left = self._match(tentative, pred, left, boxes, dcls, self.unconfirmed_match_thresh)
        track_rows.append(tentative[m[:, 0]])
        det_rows.append(left[m[:, 1]])
        dead_tentative = tentative[un_tent]
        births = left[un_left]
        births = births[scores[births] >= self.new_track_thresh]

        # Matched tracks: record the observation; motion update or re-anchor after a gap.
        t_rows = np.concatenate(track_rows)
        d_rows = np.concatenate(det_rows)
        order = np.argsort(self.tid[t_rows], kind="stable")
        t_rows, d_rows = t_rows[order], d_rows[order]
        gaps = frame - self.last[t_rows]
        self.last[t_rows] = frame
        self.hits[t_rows] += 1
        self.box[t_rows] = boxes[d_rows]
        self.score[t_rows] = scores[d_rows]
        if not self.per_class:
            self.cls[t_rows] = dcls[d_rows]
        self.status[t_rows] = np.where(self.status[t_rows] == TENTATIVE, TENTATIVE, TRACKED)
        promote = t_rows[(self.status[t_rows] == TENTATIVE) & (self.hits[t_rows] >= self.min_hits)]
        self.status[promote] = TRACKED
        self._publish(promote)
        self.status[newly_lost] = LOST
        if self.reanchor:
            cont = gaps <= 1
            self.motion.update(self.tid[t_rows[cont]], boxes[d_rows[cont]])
            self.motion.reanchor(self.tid[t_rows[~cont]], boxes[d_rows[~cont]], gaps[~cont])
        else:
            self.motion.update(self.tid[t_rows], boxes[d_rows])

        # Deaths: tentative tracks that missed, lost tracks past max_age, duplicates.
        dead = np.zeros(len(self.tid), dtype=bool)
        dead[dead_tentative] = True
        dead |= (self.status == LOST) & (frame - self.last > self.max_age)
        tracked = np.flatnonzero((self.status == TRACKED) & ~dead)
        lost = np.flatnonzero((self.status == LOST) & ~dead)
        if len(tracked) and len(lost):
            drop_t, drop_l = duplicate_pairs(
                self.box[tracked], self.last[tracked] - self.start[tracked],
                pred[lost], self.last[lost] - self.start[lost], self.duplicate_thresh,
            )
            dead[tracked[drop_t]] = True
            dead[lost[drop_l]] = True
        if dead.any():
            self.motion.remove(self.tid[dead])
            self._keep(~dead)

        # Births.
        if len(births):
            n = len(births)
            ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
            self._next_id += n
            confirmed = first_frame or self.min_hits <= 1
            self.tid = np.concatenate([self.tid, ids])
            self.cls = np.concatenate([self.cls, dcls[births]])
            self.status = np.concatenate([self.status, np.full(n, TRACKED if confirmed else TENTATIVE, np.int8)])
            self.hits = np.concatenate([self.hits, np.ones(n, np.int64)])
            self.start = np.concatenate([self.start, np.full(n, frame, np.int64)])
            self.last = np.concatenate([self.last, np.full(n, frame, np.int64)])
            self.public = np.concatenate([self.public, np.zeros(n, np.int64)])
            self.score = np.concatenate([self.score, scores[births]])
            self.box = np.concatenate([self.box, boxes[births]])
            if confirmed:
                self._publish(np.arange(len(self.tid) - n, len(self.tid)))
            self.motion.start(ids, boxes[births])

        out = np.flatnonzero((self.status == TRACKED) & (self.last == frame))
        out = out[self.box[out, 2] * self.box[out, 3] > self.min_box_area]
        rows = np.zeros((len(out), 10))
        rows[:, 0] = frame
        rows[:, 1] = self.public[out]
        rows[:, 2:6] = self.box[out]
        rows[:, 6] = self.score[out]
        rows[:, 7] = self.cls[out]
        rows[:, 8:] = -1
        return rows

    def _match(self, rows, pred, dets, boxes, dcls, thresh):
        """Gated Hungarian between track rows and detection indices (per class if set)."""
        if not len(rows) or not len(dets):
            return np.zeros((0, 2), np.int64), np.arange(len(rows)), np.arange(len(dets))
        cost = iou_distance(
            pred[rows], boxes[dets],
            self.cls[rows] if self.per_class else None, dcls[dets] if self.per_class else None,
        )
        return linear_assignment(cost, thresh)

    def _publish(self, rows: np.ndarray) -> None:
        rows = rows[self.public[rows] == 0]
        rows = rows[np.argsort(self.tid[rows], kind="stable")]
        self.public[rows] = np.arange(self._next_public, self._next_public + len(rows))
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


def track_sequence(tracker: Tracker, motion: MotionModel, dets: np.ndarray, n_frames: int, frame_rate: float,
                   homographies: np.ndarray | None = None) -> np.ndarray:
    """Run ``tracker`` over frames 1..n_frames of one sequence recorded at ``frame_rate``
    frames/s (``seqinfo.ini``'s ``frameRate``).

    ``dets``: MOT det rows (``frame, -1, x, y, w, h, score, class, -1, -1``);
    ``homographies``: (n_frames, 3, 3), row f-1 maps frame f-1's pixels to frame f's
    (:func:`nuscmot.tracking.ego.sequence_homographies`), or None (no compensation).
    Returns MOT result rows (``frame, id, x, y, w, h, score, class, -1, -1``).
    """
    if homographies is not None and np.shape(homographies) != (n_frames, 3, 3):
        raise ValueError(f"homographies must be ({n_frames}, 3, 3), got {np.shape(homographies)}")
    tracker.reset(motion, frame_rate)
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
