"""HOTA, and IDSW in the MOTChallenge-devkit convention, from TrackEval on our prepared data.

We build TrackEval's per-sequence ``data`` dict ourselves (the one its datasets produce after
preprocessing: contiguous 0-based ids, per-frame IoU similarity) and call
``trackeval.metrics.HOTA/CLEAR().eval_sequence``. That skips ``MotChallenge2DBox``'s folder
layout and its pedestrian-only class filter, and evaluates exactly the boxes motmetrics saw.
trackeval 1.3.0 runs unchanged on numpy 1.26 (no ``np.float``/``np.int`` left in it).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np


def build_data(gt_ids: list[np.ndarray], hyp_ids: list[np.ndarray], similarity: list[np.ndarray]) -> dict:
    """TrackEval's sequence ``data`` from per-frame GT ids, hypothesis ids and IoU matrices."""
    all_gt = np.concatenate(gt_ids) if gt_ids else np.zeros(0)
    all_hyp = np.concatenate(hyp_ids) if hyp_ids else np.zeros(0)
    uniq_gt = np.unique(all_gt)
    uniq_hyp = np.unique(all_hyp)
    return {
        "num_timesteps": len(gt_ids),
        "num_gt_ids": int(len(uniq_gt)),
        "num_tracker_ids": int(len(uniq_hyp)),
        "num_gt_dets": int(len(all_gt)),
        "num_tracker_dets": int(len(all_hyp)),
        "gt_ids": [np.searchsorted(uniq_gt, g).astype(int) for g in gt_ids],
        "tracker_ids": [np.searchsorted(uniq_hyp, h).astype(int) for h in hyp_ids],
        "similarity_scores": [np.asarray(s, dtype=float) for s in similarity],
    }


def _metrics(iou_threshold: float):
    from trackeval.metrics import CLEAR, HOTA

    return HOTA(), CLEAR({"THRESHOLD": iou_threshold, "PRINT_CONFIG": False})


def _row(hota: Mapping, clear: Mapping) -> dict[str, float]:
    return {
        "HOTA": float(np.mean(hota["HOTA"])),
        "DetA": float(np.mean(hota["DetA"])),
        "AssA": float(np.mean(hota["AssA"])),
        "LocA": float(np.mean(hota["LocA"])),
        "IDSW_trackeval": int(clear["IDSW"]),
    }


def summarize(datas: Mapping[str, dict], iou_threshold: float) -> dict[str, dict[str, float]]:
    """HOTA/DetA/AssA/LocA (means over TrackEval's 19 alphas) and CLEAR IDSW, per sequence + OVERALL."""
    hota_m, clear_m = _metrics(iou_threshold)
    hota_res, clear_res, out = {}, {}, {}
    for name, data in datas.items():
        hota_res[name] = hota_m.eval_sequence(data)
        clear_res[name] = clear_m.eval_sequence(data)
        out[name] = _row(hota_res[name], clear_res[name])
    if datas:
        out["OVERALL"] = _row(hota_m.combine_sequences(hota_res), clear_m.combine_sequences(clear_res))
    return out
