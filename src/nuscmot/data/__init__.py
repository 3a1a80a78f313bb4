"""Data stage: nuScenes (real or synthetic) -> COCO / MOT / trajectories; the generator is nuscmot.synthetic."""
