"""Online multi-object tracking: one ByteTrack-style association, pluggable motion models.

- :mod:`~nuscmot.tracking.association`: pure matching functions (IoU cost, gated Hungarian).
- :mod:`~nuscmot.tracking.motion`: the motion-model interface; :mod:`~nuscmot.tracking.kalman`,
  :mod:`~nuscmot.tracking.trackssm` and :mod:`~nuscmot.tracking.iou` (no motion, the floor)
  implement it.
- :mod:`~nuscmot.tracking.models`: the motion-model registry (one entry per model: config slice,
  factory, learned or not, its own modules); everything that names a model reads it.
- :mod:`~nuscmot.tracking.config`: the association config slice, the one home of its defaults,
  types and ranges.
- :mod:`~nuscmot.tracking.tracker`: the tracker (two-stage association, births, lost buffer).
- :mod:`~nuscmot.tracking.ego`: ego-motion compensation (camera-rotation homography, box and
  Kalman-state warps).
- :mod:`~nuscmot.tracking.gt_detections`: GT-derived detections with controlled degradation.
- :mod:`~nuscmot.tracking.run`: one tracking run over the test sequences (the ``run_tracker`` stage).
- :mod:`~nuscmot.tracking.inputs`: what tracking reads of a sequence (seqinfo, detections, poses).

Nothing here imports nuscenes-devkit or motmetrics.
"""
