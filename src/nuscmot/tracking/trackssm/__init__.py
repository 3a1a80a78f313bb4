"""TrackSSM: a learned state-space motion model (Hu et al., 2024), in plain PyTorch.

``model`` (encoder, Flow-SSM decoder), ``scan`` (selective scan), ``data`` (trajectory
windows and augmentation), ``train`` (S2L training, held-out metrics), ``fit`` (the
``train_trackssm`` stage's job: data, training, checkpoint and report), ``checkpoint``,
``config`` (the motion slice), ``motion`` (the tracker's motion-model adapter).
"""
