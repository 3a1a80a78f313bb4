"""The MOTChallenge / KITTI ignore convention, checked against TrackEval's own KITTI pipeline.

One scene is written twice: in MOTChallenge layout for us (DontCare rows zero-marked with id -1,
vans as a distractor class sharing one id) and in KITTI's label_02 layout for TrackEval's
``Kitti2DBox`` (its reader, crowd ignore regions, distractor matching and CLEAR metrics).
"""

from __future__ import annotations

import numpy as np
import pytest

from nuscmot.common.errors import InputError
from nuscmot.evaluation.ignore import IgnoreRules, box_ioa, removed_hypotheses
from nuscmot.evaluation.metrics import EvaluationConfig
from nuscmot.evaluation.sequences import load_gt

from .builders import gt_row, res_row, write_dataset
from .test_trackeval_agreement import ours

CAR, VAN, DONTCARE = 1, 2, 9
KITTI_TYPE = {CAR: "Car", VAN: "Van", DONTCARE: "DontCare"}
LENGTH = 6
R1 = (0, 250, 300, 150)  # a big DontCare region
R2 = (500, 250, 100, 100)


def scene() -> tuple[list, list]:
    """GT and hypotheses; every box taller than KITTI's 25 px minimum height."""
    gt, trk = [], []
    for f in range(1, LENGTH + 1):
        dx = 10 * f
        gt += [gt_row(f, 1, 100 + dx, 100, 60, 40), gt_row(f, 2, 400 + dx, 100, 60, 40)]
        gt += [gt_row(f, 3, 700, 100, 60, 40, cls=VAN), gt_row(f, 3, 800, 100, 60, 40, cls=VAN)]  # shared id
        gt += [gt_row(f, -1, *R1, cls=DONTCARE, conf=0), gt_row(f, -1, *R2, cls=DONTCARE, conf=0)]
        gt.append(gt_row(f, 4, 150, 300, 60, 40))  # a real car inside the DontCare region R1
        trk.append(res_row(f, 1, 102 + dx, 101, 60, 40))  # on car 1
        trk.append(res_row(f, 2 if f <= 3 else 5, 401 + dx, 100, 60, 40))  # on car 2, one switch
        trk.append(res_row(f, 3, 702, 101, 60, 40))  # on a van: removed
        trk.append(res_row(f, 6, 50, 300, 40, 30))  # inside R1, unmatched: removed
        trk.append(res_row(f, 7, 570, 330, 60, 40))  # 30 px of R2: a false positive
        if f == 2:
            trk.append(res_row(f, 8, 170, 310, 60, 40))  # IoU 0.33 with car 4, inside R1: removed
        else:
            trk.append(res_row(f, 8, 155, 302, 60, 40))  # matched to car 4 (inside R1): kept
    return gt, trk


def kitti_line(row, frame_col=0, score=None) -> str:
    frame, tid, x, y, w, h = row[:6]
    kind = KITTI_TYPE[int(row[7])]
    tail = "" if score is None else f" {score}"
    return f"{int(frame) - 1} {int(tid)} {kind} 0 0 -10 {x} {y} {x + w} {y + h} -1 -1 -1 -1000 -1000 -1000 -10{tail}\n"


def kitti_reference(tmp_path, gt, trk) -> dict:
    import trackeval

    root = tmp_path / "kitti"
    (root / "gt" / "label_02").mkdir(parents=True)
    (root / "gt" / "evaluate_tracking.seqmap.training").write_text(f"0000 empty 000000 {LENGTH:06d}\n")
    (root / "gt" / "label_02" / "0000.txt").write_text("".join(kitti_line(r) for r in gt))
    data = root / "trackers" / "trk" / "data"
    data.mkdir(parents=True)
    (data / "0000.txt").write_text("".join(kitti_line([*r[:7], CAR], score=r[6]) for r in trk))
    quiet = {"PRINT_CONFIG": False}
    evaluator = trackeval.Evaluator(
        {"USE_PARALLEL": False, "PRINT_RESULTS": False, "TIME_PROGRESS": False, "OUTPUT_SUMMARY": False,
         "OUTPUT_DETAILED": False, "PLOT_CURVES": False, "LOG_ON_ERROR": None, **quiet}
    )  # fmt: skip
    dataset = trackeval.datasets.Kitti2DBox(
        {"GT_FOLDER": str(root / "gt"), "TRACKERS_FOLDER": str(root / "trackers"), "OUTPUT_FOLDER": str(root / "out"),
         "CLASSES_TO_EVAL": ["car"], "TRACKERS_TO_EVAL": ["trk"], **quiet}
    )  # fmt: skip
    res, msg = evaluator.evaluate([dataset], [trackeval.metrics.CLEAR({"THRESHOLD": 0.5, **quiet})])
    assert msg["Kitti2DBox"]["trk"] == "Success"
    return res["Kitti2DBox"]["trk"]["0000"]["car"]["CLEAR"]


def test_matches_trackeval_kitti(tmp_path):
    gt, trk = scene()
    paths = write_dataset(tmp_path, {"0000": {"length": LENGTH, "gt": gt, "trk": trk}})
    mine = ours(paths, tmp_path, {"distractor_classes": [VAN]})["0000"]
    ref = kitti_reference(tmp_path, gt, trk)
    got = (mine["FP"], mine["FN"], mine["IDSW"], mine["IDSW_trackeval"])
    assert got == (ref["CLR_FP"], ref["CLR_FN"], ref["IDSW"], ref["IDSW"])
    assert mine["MOTA"] == pytest.approx(ref["MOTA"], abs=1e-12)
    # by hand: 6 FP (hyp 7), 1 FN (car 4 in frame 2), 1 switch; 6 vans x2 + 12 regions ignored;
    # removed: 6 on the van, 6 inside R1, 1 weak overlap inside R1
    assert got == (6, 1, 1, 1)
    assert (mine["ignored_gt"], mine["ignored_predictions"]) == (24, 13)


def test_the_old_rule_would_differ(tmp_path):
    """Without regions (``region_ioa: 1``) the hypotheses inside R1 are false positives."""
    gt, trk = scene()
    paths = write_dataset(tmp_path, {"0000": {"length": LENGTH, "gt": gt, "trk": trk}})
    mine = ours(paths, tmp_path, {"distractor_classes": [VAN], "region_ioa": 1.0})["0000"]
    assert (mine["FP"], mine["ignored_predictions"]) == (6 + 6 + 1, 6)


def test_evaluated_rows_still_need_unique_ids(tmp_path):
    gt, _ = scene()
    gt.append(gt_row(1, 1, 300, 300, 30, 30))  # a second car 1 in frame 1
    write_dataset(tmp_path, {"0000": {"length": LENGTH, "gt": gt}})
    rules = EvaluationConfig(distractor_classes=(VAN,)).ignore_rules
    with pytest.raises(InputError, match=r"gt\.txt.*id 1 appears twice in frame 1"):
        load_gt(tmp_path / "mot", "0000", rules)
    gt.pop()
    write_dataset(tmp_path, {"0000": {"length": LENGTH, "gt": gt}})
    with pytest.raises(InputError, match="id 3 appears twice"):  # vans are not distractors by default
        load_gt(tmp_path / "mot", "0000")
    assert len(load_gt(tmp_path / "mot", "0000", rules).rows) == len(gt)


def test_region_step_only_sees_unmatched_hypotheses():
    rules = IgnoreRules(region_ioa=0.5)
    gt = np.asarray([gt_row(1, 1, 10, 10, 20, 20), gt_row(1, -1, 0, 0, 100, 100, conf=0)], dtype=float)
    hyp = np.asarray([res_row(1, 1, 11, 10, 20, 20), res_row(1, 2, 50, 50, 10, 10)], dtype=float)
    iou = 1.0 - _iou_distance(gt, hyp)
    assert removed_hypotheses(gt, hyp, iou, rules).tolist() == [False, True]
    assert removed_hypotheses(gt, hyp, iou, IgnoreRules(region_ioa=1.0)).tolist() == [False, False]
    assert box_ioa(hyp[:, 2:6], gt[1:, 2:6]).ravel().tolist() == [1.0, 1.0]


def test_config_rejects_bad_values():
    with pytest.raises(InputError, match=r"evaluation \[region_ioa\]"):
        EvaluationConfig(region_ioa=1.5)
    with pytest.raises(InputError, match=r"evaluation \[distractor_classes\]"):
        EvaluationConfig(distractor_classes=(2, 2))


def _iou_distance(gt, hyp):
    from nuscmot.evaluation.motmetrics_compat import iou_distances

    return iou_distances(gt[:, 2:6], hyp[:, 2:6])


def test_matches_trackeval_motchallenge_distractors(tmp_path):
    """MOT17's convention: distractor classes (static person 7, distractor 8) remove the boxes
    matched to them, a zero-marked car (class 3) only leaves the GT, no ignore regions."""
    import shutil

    import trackeval

    gt, trk = [], []
    for f in range(1, LENGTH + 1):
        gt += [gt_row(f, 1, 100 + 10 * f, 100, 40, 80), gt_row(f, 2, 300, 100, 40, 80, cls=7, conf=0),
               gt_row(f, 3, 500, 100, 40, 80, cls=8, conf=0), gt_row(f, 4, 0, 300, 300, 150, cls=3, conf=0)]
        trk += [res_row(f, 1, 102 + 10 * f, 101, 40, 80), res_row(f, 2, 301, 100, 40, 80),
                res_row(f, 3, 502, 102, 40, 80), res_row(f, 4, 50, 320, 40, 80)]  # on the car's area: a FP
    paths = write_dataset(tmp_path, {"MOT17-02": {"length": LENGTH, "gt": gt, "trk": trk}})
    mine = ours(paths, tmp_path, {"distractor_classes": [2, 7, 8, 12], "region_ioa": 1.0})["MOT17-02"]
    root = tmp_path / "te"
    shutil.copytree(paths.mot_dir, root / "gt")
    shutil.copytree(paths.results["trk"], root / "trackers" / "trk" / "data")
    quiet = {"PRINT_CONFIG": False}
    evaluator = trackeval.Evaluator({"USE_PARALLEL": False, "PRINT_RESULTS": False, "TIME_PROGRESS": False,
                                     "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False,
                                     "LOG_ON_ERROR": None, **quiet})
    dataset = trackeval.datasets.MotChallenge2DBox(
        {"GT_FOLDER": str(root / "gt"), "TRACKERS_FOLDER": str(root / "trackers"), "OUTPUT_FOLDER": str(root / "out"),
         "SEQMAP_FILE": str(paths.seqmap), "SKIP_SPLIT_FOL": True, "TRACKERS_TO_EVAL": ["trk"], **quiet}
    )  # fmt: skip
    res, msg = evaluator.evaluate([dataset], [trackeval.metrics.CLEAR({"THRESHOLD": 0.5, **quiet})])
    assert msg["MotChallenge2DBox"]["trk"] == "Success"
    ref = res["MotChallenge2DBox"]["trk"]["MOT17-02"]["pedestrian"]["CLEAR"]
    assert (mine["FP"], mine["FN"], mine["IDSW"]) == (ref["CLR_FP"], ref["CLR_FN"], ref["IDSW"]) == (LENGTH, 0, 0)
    assert mine["MOTA"] == pytest.approx(ref["MOTA"], abs=1e-12)
    assert (mine["ignored_gt"], mine["ignored_predictions"]) == (3 * LENGTH, 2 * LENGTH)
