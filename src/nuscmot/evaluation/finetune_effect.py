"""``finetune_effect``: did fine-tuning the detector close the detection gaps?

A baseline detection source (the pretrained checkpoint, say) against a fine-tuned one on the
same test sequences: detection recall, AP@0.5 and AR@100 on the CAM_FRONT test frames
(:mod:`.finetune_coco`), gap frames and runs, in total and per GT track, crowded- and
sparse-frame recall (:mod:`.finetune_detection`); IDSW, MOTA and IDF1 per tracker and the
TrackSSM-minus-Kalman IDSW difference per source (:mod:`.finetune_tracking`). Every change
(fine-tuned minus baseline) has paired per-sequence statistics (:mod:`.stats`), and the recipe's
claims (gaps -30 to -40%, crowded-frame recall +10 to +15%, TrackSSM IDSW -30 to -40%) are marked
met, not met or not significant. Writes the Markdown, the JSON (everything) and the plots (a
folder swapped into place when complete).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from nuscmot.common.errors import InputError
from nuscmot.common.io import atomic_dir, write_json, write_text
from nuscmot.common.mot import read_seqmap
from nuscmot.evaluation import finetune_detection as det
from nuscmot.evaluation.compare import CompareConfig
from nuscmot.evaluation.finetune_coco import coco_scores, frame_image_ids, load_test_coco
from nuscmot.evaluation.finetune_config import FinetuneEffectConfig
from nuscmot.evaluation.finetune_report import draw_plots, markdown
from nuscmot.evaluation.finetune_tracking import claims, tracking_section
from nuscmot.evaluation.metrics import EvaluationConfig
from nuscmot.evaluation.runs import Run


@dataclass(frozen=True)
class FinetunePaths:
    """Inputs (COCO test set, MOT folder, seqmap) and outputs (Markdown, JSON, plots folder)."""

    coco_test: Path
    mot_dir: Path
    seqmap: Path
    md: Path
    json: Path
    plots_dir: Path


def detection_section(sources, seqs, cfg: FinetuneEffectConfig, ccfg: CompareConfig, ecfg: EvaluationConfig,
                      paths: FinetunePaths) -> dict[str, Any]:
    """Per source and sequence the detection measures (with AP@0.5 / AR@100), totals, changes."""
    names = [s.name for s in seqs]
    masks = det.crowd_masks(seqs, cfg.crowded_fraction)
    coco = load_test_coco(paths.coco_test)
    image_ids = frame_image_ids(list(coco.imgs.values()), paths.coco_test, paths.mot_dir, names)
    per_seq, tot, coco_overall = {}, {}, {}
    for role, src in sources.items():
        per_seq[role], dets = det.source_detections(src, seqs, masks, ecfg)
        scores = coco_scores(coco, dets, image_ids)
        det.add_coco(per_seq[role], scores["sequences"])
        tot[role] = det.totals(per_seq[role], scores["overall"])
        coco_overall[role] = scores["overall"]
    return {"sequences": per_seq, "totals": tot, "coco": coco_overall,
            "changes": det.detection_changes(per_seq, names, ccfg),
            "dets": {role: str(src.dets()[None]) for role, src in sources.items()}}


def finetune_effect(cfg: FinetuneEffectConfig, ccfg: CompareConfig, ecfg: EvaluationConfig, runs: Sequence[Run],
                    paths: FinetunePaths) -> dict[str, Any]:
    """Compare the two sources; write the Markdown, the JSON and the plots; return the JSON document."""
    names = read_seqmap(paths.seqmap)
    if not names:
        raise InputError(paths.seqmap, "seqmap lists no sequences")
    sources = det.pick_sources(runs, cfg)
    seqs = det.load_sequences(paths.mot_dir, names, ecfg)
    detection = detection_section(sources, seqs, cfg, ccfg, ecfg, paths)
    tracking = tracking_section(sources, names, cfg, ccfg, ecfg)
    doc = {
        "sources": {role: getattr(cfg, role) for role in det.ROLES},
        "config": dataclasses.asdict(cfg), "compare": dataclasses.asdict(ccfg), "evaluation": dataclasses.asdict(ecfg),
        "level": 1 - ccfg.alpha, "sequences": names, "frames": sum(s.length for s in seqs),
        "detection": detection, "tracking": tracking, "claims": claims(cfg, detection["changes"], tracking),
        "notes": {"ap": "AP/AR of the tracked detection files: detections below infer.conf_threshold are absent",
                  "relative": "relative change: sum over sequences (fine-tuned) / sum (baseline) - 1",
                  "crowded": "crowded: the top crowded_fraction of all test frames by evaluated GT boxes (ties by "
                             "relative position in the sequence, then sequence); sparse: the bottom crowded_fraction"},
    }
    with atomic_dir(paths.plots_dir) as tmp:
        draw_plots(tmp, doc)
    write_json(paths.json, doc)
    write_text(paths.md, markdown(doc))
    return doc
