"""``finetune_effect`` on a hand-made case: 8 sequences of 9 frames, 2 tracks throughout and 4 more
in frames 4-6 (the crowded third of the frames); the baseline misses track 1 in frame 5 and
track 2 in frame 8 of every sequence (2 gap frames, 2 gap runs), the fine-tuned source finds
everything. Boxes move 30 px a frame, so a frame mapped to its neighbour's image misses."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nuscmot.common.errors import InputError
from nuscmot.common.mot import SeqInfo, write_image_list, write_mot, write_seqinfo, write_seqmap
from nuscmot.evaluation.finetune_coco import coco_scores, frame_image_ids, load_test_coco
from nuscmot.evaluation.finetune_tracking import claim_mark
from nuscmot.stages import finetune_effect

NAMES = [f"scene-{i:02d}" for i in range(8)]
LENGTH = 9
METRIC_COLS = ("IDSW", "MOTA", "IDF1", "HOTA", "FP", "FN", "Frag", "IDSW_trackeval")


def gt_rows() -> np.ndarray:
    rows = []
    for f in range(1, LENGTH + 1):
        for tid in (1, 2, 3, 4, 5, 6):
            if tid <= 2 or 4 <= f <= 6:
                rows.append([f, tid, 10 + 30 * f, 10 + 50 * tid, 40, 40, 1, 1 + tid % 2, 4])
    return np.asarray(rows, float)


def det_rows(gt: np.ndarray, drop=()) -> np.ndarray:
    keep = [r for r in gt if (int(r[0]), int(r[1])) not in drop]
    return np.asarray([[r[0], -1, *r[2:6], 0.9, r[7], -1, -1] for r in keep], float)


def metrics_doc(tracker: str, idsw: list[int]) -> dict:
    seqs = {n: {**dict.fromkeys(METRIC_COLS, 0), "IDSW": v, "MOTA": 0.5, "IDF1": 0.6, "num_objects": 30,
                "num_predictions": 30} for n, v in zip(NAMES, idsw)}
    overall = {**dict.fromkeys(METRIC_COLS, 0), "IDSW": sum(idsw), "MOTA": 0.5, "IDF1": 0.6}
    return {"tracker": tracker, "sequences": seqs, "overall": overall}


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("finetune")
    gt = gt_rows()
    rng = np.random.default_rng(0)
    ids = rng.permutation(len(NAMES) * LENGTH) + 100  # COCO ids in no particular order
    images, anns = [], []
    for s, name in enumerate(NAMES):
        seq = root / "mot" / name
        write_seqinfo(seq / "seqinfo.ini", SeqInfo(name=name, length=LENGTH, width=400, height=360))
        write_mot(seq / "gt" / "gt.txt", gt, "gt")
        files = [f"samples/CAM_FRONT/{name}__{f:02d}.jpg" for f in range(1, LENGTH + 1)]
        write_image_list(seq / "img1.txt", files)
        for f, file in enumerate(files, start=1):
            img_id = int(ids[s * LENGTH + f - 1])
            images.append({"id": img_id, "file_name": file, "width": 400, "height": 360, "scene_name": name,
                           "camera": "CAM_FRONT", "frame_index": f - 1})
            anns += [{"id": len(anns) + k + 1, "image_id": img_id, "category_id": int(r[7]), "bbox": list(r[2:6]),
                      "area": 1600.0, "iscrowd": 0} for k, r in enumerate(gt[gt[:, 0] == f])]
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(["car", "truck", "bus", "trailer", "pedestrian",
                                                            "motorcycle", "bicycle"])]
    (root / "test_front.json").write_text(json.dumps({"images": images[::-1], "annotations": anns, "categories": cats}))
    write_seqmap(root / "seqmap.txt", NAMES)
    for source, drop in (("pretrained", {(5, 1), (8, 2)}), ("finetuned", set())):
        for name in NAMES:
            write_mot(root / "dets" / source / f"{name}.txt", det_rows(gt, drop), "det")
    return {"root": root, "gt": gt, "ids": ids}


def runs(case) -> list[dict]:
    root, out = case["root"], []
    idsw = {("pretrained", "kalman", None): [5] * 8, ("finetuned", "kalman", None): [5] * 8,
            ("pretrained", "trackssm", 0): [8] * 8, ("pretrained", "trackssm", 1): [8] * 8,
            ("finetuned", "trackssm", 0): [9, 7] * 4, ("finetuned", "trackssm", 1): [7, 9] * 4}
    for (source, tracker, seed), values in idsw.items():
        path = root / "metrics" / f"{source}_{tracker}_{seed}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(metrics_doc(tracker, values)))
        out.append({"source": source, "draw": None, "tracker": tracker, "seed": seed, "metrics": str(path),
                    "results": str(root / "unused"), "dets": str(root / "dets" / source)})
    return out


def run_stage(case, the_runs, tmp_path, cfg=None):
    root = case["root"]
    params = {"cfg": cfg or {}, "compare": {"bootstrap_samples": 500}, "evaluation": {}}
    finetune_effect.main([
        "--params", json.dumps(params), "--runs", json.dumps(the_runs), "--coco-test", str(root / "test_front.json"),
        "--mot-dir", str(root / "mot"), "--seqmap", str(root / "seqmap.txt"), "--out-md", str(tmp_path / "fe.md"),
        "--out-json", str(tmp_path / "fe.json"), "--plots-dir", str(tmp_path / "plots"),
    ])
    return json.loads((tmp_path / "fe.json").read_text())


def test_coco_mapping_is_exact(case):
    root = case["root"]
    coco = load_test_coco(root / "test_front.json")
    image_ids = frame_image_ids(list(coco.imgs.values()), root / "test_front.json", root / "mot", NAMES)
    for s, name in enumerate(NAMES):
        assert image_ids[name] == [int(case["ids"][s * LENGTH + f]) for f in range(LENGTH)]
    perfect = {n: det_rows(case["gt"]) for n in NAMES}
    scores = coco_scores(coco, perfect, image_ids)
    assert scores["overall"]["AP50"] == pytest.approx(1.0) and scores["overall"]["AR100"] == pytest.approx(1.0)
    shifted = {n: np.column_stack([np.minimum(r[:, 0] + 1, LENGTH), r[:, 1:]]) for n, r in perfect.items()}
    assert coco_scores(coco, shifted, image_ids)["overall"]["AP50"] < 0.5  # a frame off misses


def test_frame_missing_from_coco_names_the_image_list(case, tmp_path):
    root = case["root"]
    data = json.loads((root / "test_front.json").read_text())
    data["images"] = [im for im in data["images"] if im["file_name"] != f"samples/CAM_FRONT/{NAMES[1]}__03.jpg"]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in {im["id"] for im in data["images"]}]
    (tmp_path / "t.json").write_text(json.dumps(data))
    coco = load_test_coco(tmp_path / "t.json")
    with pytest.raises(InputError, match=rf"{NAMES[1]}/img1.txt:3: image .* of frame 3 is not in the COCO test set"):
        frame_image_ids(list(coco.imgs.values()), tmp_path / "t.json", root / "mot", NAMES)


def test_changes_and_marks(case, tmp_path):
    doc = run_stage(case, runs(case), tmp_path)
    tot = doc["detection"]["totals"]
    assert tot["baseline"]["gap_frames"] == 16 and tot["finetuned"]["gap_frames"] == 0
    assert tot["baseline"]["gap_runs"] == 16 and tot["baseline"]["recall"] == pytest.approx(28 / 30)
    assert tot["baseline"]["crowded_frames"] == 24 and tot["baseline"]["crowded_recall"] == pytest.approx(17 / 18)
    assert tot["finetuned"]["crowded_recall"] == 1.0 and tot["baseline"]["sparse_recall"] == pytest.approx(5 / 6)
    assert tot["finetuned"]["AP50"] == pytest.approx(1.0) and tot["baseline"]["AR100"] == pytest.approx(28 / 30)
    ch = doc["detection"]["changes"]
    assert ch["gap_frames"]["absolute"]["estimate"] == -16 and ch["gap_frames"]["relative"]["estimate"] == -1.0
    assert ch["gap_frames"]["absolute"]["significant"] and ch["gap_frames"]["absolute"]["better"] == 8
    assert ch["crowded_recall"]["relative"]["estimate"] == pytest.approx(18 / 17 - 1)
    assert ch["recall"]["absolute"]["estimate"] == pytest.approx(2 / 30)
    marks = {c["claim"]: c["mark"] for c in doc["claims"]}
    assert marks == {"gap_frames": "met", "crowded_recall": "not met", "trackssm_idsw": "not significant"}
    gaps = next(c for c in doc["claims"] if c["claim"] == "gap_frames")
    assert gaps["magnitude"] == 1.0 and gaps["versus_expected"] == "beyond"
    tr = doc["tracking"]
    assert tr["summary"]["baseline"]["trackssm"]["mean"]["IDSW"] == 64
    assert tr["changes"]["trackssm"]["IDSW"]["absolute"]["estimate"] == 0
    assert tr["paradox"]["per_source"]["baseline"]["estimate"] == 24 and tr["paradox"]["change"]["estimate"] == 0
    md = (tmp_path / "fe.md").read_text()
    assert "## Expected vs measured" in md
    assert re.search(r"\| detection-gap frames +\| -30 to -40% +\| -100.0% +\| -100.0% to -100.0% +\| 0.0078 +\| \*\*met", md)
    assert "not significant" in md and "conf_threshold" in md
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["finetune_detection_per_sequence.png",
                                                                      "finetune_idsw.png"]


def test_drawn_runs_are_refused(case, tmp_path):
    bad = [dict(r, draw=0) if r["source"] == "pretrained" else r for r in runs(case)]
    with pytest.raises(InputError, match="source pretrained has drawn runs"):
        run_stage(case, bad, tmp_path)


def test_a_missing_source_is_one_line(case, tmp_path):
    with pytest.raises(InputError, match="no run of the baseline source 'other'"):
        run_stage(case, runs(case), tmp_path, cfg={"baseline": "other"})


@pytest.mark.parametrize("estimate, ci, significant, mark, where", [
    (-0.35, [-0.45, -0.25], True, "met", "inside"),
    (-0.50, [-0.60, -0.40], True, "met", "beyond"),
    (-0.10, [-0.15, -0.05], True, "not met", "below"),
    (+0.20, [0.10, 0.30], True, "not met", "below"),  # the opposite direction
    (-0.35, [-0.70, 0.05], False, "not significant", "inside"),
])
def test_claim_marks(estimate, ci, significant, mark, where):
    change = {"relative": {"estimate": estimate, "ci": ci}, "absolute": {"significant": significant, "p": 0.01}}
    got = claim_mark(change, -1, (0.30, 0.40))
    assert got["mark"] == mark and got["versus_expected"] == where
    assert got["magnitude"] == pytest.approx(-estimate)
