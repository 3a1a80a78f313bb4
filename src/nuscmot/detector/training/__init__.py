"""The parts of the detector's training run, each small and on its own; wired together by
:mod:`nuscmot.detector.trainer`, whose :class:`~nuscmot.detector.trainer.Trainer` holds the loop.

- :mod:`.fingerprint`: what a run computes (config slice + input digests), frozen v1 defaults;
- :mod:`.state_store`: the resumable state on disk, one folder per fingerprint, never cleared
  (latest/epoch copies/best, atomic writes), RNG states and seeding;
- :mod:`.schedule`: the phase schedule (backbone frozen -> full, no-aug tail), LR warmup + cosine;
- :mod:`.model_parts`: model, optimizer, AMP scaler, EMA, DDP wrapper, backbone unfreezing;
- :mod:`.steps`: one training step (forward, loss check, backward) and the epoch's loss sums;
- :mod:`.eval_hook`: periodic COCO evaluation and best-so-far tracking;
- :mod:`.reporting`: train_log text, TensorBoard scalars, progress bars;
- :mod:`.caps`: the demo caps a run was shortened by, for its train log and checkpoints;
- :mod:`.distributed`: torchrun's environment (DDP only when ``WORLD_SIZE > 1``).
"""
