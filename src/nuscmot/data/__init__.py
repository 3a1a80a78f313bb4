"""Data stage: the synthetic nuScenes-format generator and nuScenes -> COCO / MOT / trajectories."""
