"""nuscmot: nuScenes camera data -> COCO -> YOLOX -> tracking -> IDSW verdict."""

__version__ = "0.1.0"
