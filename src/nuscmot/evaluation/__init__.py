"""Tracking evaluation (motmetrics + TrackEval HOTA) and the Kalman-vs-TrackSSM IDSW verdict.

- :mod:`.motmetrics_compat`: the one place that works around motmetrics 1.4.0 on numpy/pandas.
- :mod:`.sequences`: loading and validating GT / results per sequence, grouping rows by frame.
- :mod:`.metrics`: per-sequence and overall CLEAR / ID metrics (motmetrics) plus HOTA.
- :mod:`.trackeval_metrics`: HOTA and devkit-convention IDSW from TrackEval on the same data.
- :mod:`.gaps`, :mod:`.crowding`: explanatory variables from GT and detections.
- :mod:`.tracker_metrics`: one tracker's metrics files (the ``evaluate_tracker`` stage).
- :mod:`.compare`: tracker tables, IDSW deltas/ratios, correlations; :mod:`.plots`: figures.
- :mod:`.verdict`: the comparison of every detection source (the ``compare_idsw`` stage).
"""
