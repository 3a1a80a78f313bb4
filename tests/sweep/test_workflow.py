"""The real Snakemake targets `sweep_tracking` and `gap_ablation` on the tiny config.

- a dry run (nothing built): one block job per (source, motion model) on the tuning split; a
  model's own value changes only that model's blocks;
- one module-scoped run of `snakemake gap_ablation` with 0 % drops, no jitter and no false
  positives: the IDSW both motion models make on clean GT boxes, reported and near zero;
- on the same workdir, `snakemake sweep_tracking` on GT-derived detections (2 x 1 x 1 x 1 grid,
  Kalman only to keep the test short; both trackers are planned in the dry run), then a new
  grid value: only that block (and the summary) is stale.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from e2e.workflow import planned_jobs, snakemake, tiny_config, with_change, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TRACKERS = ("kalman", "trackssm")
TRACKER_RUNS = ("kalman", "trackssm-s0", "trackssm-s1")  # the tiny config's two TrackSSM seeds
# A switch on clean GT boxes counts as a 2 Hz large-displacement case when the object's box,
# between its last match and the switch, overlaps its previous-frame box by less than this IoU
# (the first association gates at IoU 0.2 against the *prediction*; at 2 Hz a constant-velocity
# prediction lags accelerating image motion). Anything else is treated as a bug.
LARGE_DISPLACEMENT_IOU = 0.6


def switch_displacements(mot_dir: Path, results_dir: Path, names: list[str]) -> list[tuple[str, int, int, float]]:
    """(sequence, frame, GT id, smallest frame-to-frame IoU of the GT box since its last match)
    for every motmetrics switch of one tracker's results."""
    from nuscmot.evaluation.metrics import EvaluationConfig, evaluate_sequence, switch_events
    from nuscmot.evaluation.sequences import load_gt, load_results
    from nuscmot.tracking.boxes import iou_matrix

    out = []
    for name in names:
        gt = load_gt(mot_dir, name)
        ev = evaluate_sequence(name, gt.rows, load_results(results_dir, name, gt.length), gt.length, EvaluationConfig())
        events = ev.accumulator.mot_events
        for frame, oid, _ in switch_events(ev):
            matched = events[(events.OId == oid) & events.Type.isin(["MATCH", "SWITCH"])]
            frames = matched.index.get_level_values("FrameId").to_numpy()
            last = frames[frames < frame].max()
            track = gt.rows[(gt.rows[:, 1] == oid) & (gt.rows[:, 0] >= last) & (gt.rows[:, 0] <= frame)]
            track = track[np.argsort(track[:, 0])]
            ious = [iou_matrix(track[i : i + 1, 2:6], track[i + 1 : i + 2, 2:6])[0, 0] for i in range(len(track) - 1)]
            out.append((name, frame, oid, float(min(ious))))
    return out


def cell_commands(workdir: Path, *targets: str) -> dict[str, str]:
    """Output path -> shell command of every sweep block / gap tracking job a dry run plans."""
    out = snakemake(workdir, "--dry-run", "--printshellcmds", *targets).stdout
    cmds = {}
    for line in out.splitlines():
        m = re.search(r"python -m nuscmot\.stages\.(?:run_tracker|sweep_block) .*--(?:out-dir|out) '?([^' ]+)'?", line)
        if m:
            cmds[m.group(1)] = line.strip()
    return cmds


def test_a_models_own_value_replans_only_its_own_blocks(tmp_path):
    """One block job per (source, model) on the tuning split; a Kalman-only key changes only the
    Kalman blocks' params (so only they rerun), never TrackSSM's."""
    cfg = with_change(tiny_config(tmp_path), "compare.use_tuned", True)
    write_config(tmp_path, cfg)
    before = cell_commands(tmp_path, "sweep_tracking")
    sources = cfg["tracking"]["sources"]
    assert sorted(before) == sorted(f"{cfg['results']}/sweep/{s}/{t}.json" for s in sources for t in TRACKER_RUNS)
    assert all("--mot-dir" in c and "/mot/tune" in c and "/mot/test" not in c for c in before.values())

    write_config(tmp_path, with_change(cfg, "sweep.motion.kalman.std_weight_velocity", [0.00625, 0.05]))
    after = cell_commands(tmp_path, "sweep_tracking")
    changed = sorted(p for p in before if after[p] != before[p])
    assert changed == sorted(f"{cfg['results']}/sweep/{s}/kalman.json" for s in sources)
    assert all('"kalman__std_weight_velocity":0.05' in after[p] for p in changed)
    # and every test tracking job reads its own run's pick
    tracks = snakemake(tmp_path, "--dry-run", "--printshellcmds", "compare_idsw").stdout
    source_runs = ["detector", "gt-d0", "gt-d1"]
    for s in source_runs:
        for t in TRACKER_RUNS:
            pick = f"{cfg['results']}/sweep/tuned/{s.split('-')[0]}/{t}.json"
            assert f"--tuned {pick} " in tracks or f"--tuned '{pick}' " in tracks, (s, t)


def test_gap_ablation_tracks_every_level_with_and_without_ego_compensation(tmp_path):
    cfg = tiny_config(tmp_path)
    cfg["gap_ablation"]["ego_compensation"] = [False, True]
    write_config(tmp_path, cfg)
    cmds = cell_commands(tmp_path, "gap_ablation")
    gap = cfg["gap_ablation"]
    n_levels = (0.0 in gap["drop_rates"]) + len(gap["drop_modes"]) * len([r for r in gap["drop_rates"] if r > 0])
    for value in ("false", "true"):
        mine = {p: c for p, c in cmds.items() if f"/ego_compensation~{value}/tracking/" in p}
        assert len(mine) == n_levels * len(TRACKERS), sorted(cmds)
        assert all(f'"ego_compensation":{value}' in c for c in mine.values())
    # the two settings track the same detections
    dets = {re.search(r"--dets-dir '?([^' ]+)", c).group(1) for c in cmds.values()}
    assert len(dets) == n_levels


@pytest.fixture(scope="module")
def clean_gap_ablation(tmp_path_factory):
    """`snakemake gap_ablation` at 0 % drops, no jitter, no false positives, every score 1
    (a true box scored below track_high_thresh can lose its track to a neighbour: see
    test_switch_cases.py)."""
    workdir = tmp_path_factory.mktemp("gap")
    cfg = tiny_config(workdir)
    cfg["gap_ablation"].update(drop_rates=[0.0], jitter=0.0, false_positives_per_frame=0.0)
    cfg["gt_detections"]["score_low"] = 1.0
    write_config(workdir, cfg)
    snakemake(workdir, "--cores", "2", "gap_ablation")
    return workdir, cfg


def test_clean_gt_gives_near_zero_idsw(clean_gap_ablation, record_property):
    workdir, cfg = clean_gap_ablation
    res = Path(cfg["results"]) / "gap_ablation"
    with open(res / "curves.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["tracker"], r["mode"], r["drop_rate"]) for r in rows] == [
        (t, m, "0.000000") for t in TRACKERS for m in cfg["gap_ablation"]["drop_modes"]
    ]
    by_tracker = {r["tracker"]: r for r in rows}  # every mode shares the one 0 % level
    idsw = {t: int(r["IDSW"]) for t, r in by_tracker.items()}
    objects = {t: int(r["num_objects"]) for t, r in by_tracker.items()}
    summary = ", ".join(
        f"{t}: IDSW {idsw[t]} (TrackEval {r['IDSW_trackeval']}) of {objects[t]} GT boxes" for t, r in by_tracker.items()
    )
    record_property("clean_gt_idsw", summary)
    print(f"\nclean GT-derived detections: {summary}")
    results = Path(cfg["results"])
    names = (results / "mot" / "seqmaps" / "test.txt").read_text().split()[1:]
    for t in TRACKERS:
        assert objects[t] > 0, f"the tiny test sequences have no GT boxes: {summary}"
        level = res / "none" / "drop_rate~0.0" / "ego_compensation~false" / "tracking" / t
        cases = switch_displacements(results / "mot" / "test", level, names)
        assert len(cases) == idsw[t], summary
        unexplained = [c for c in cases if c[3] >= LARGE_DISPLACEMENT_IOU]
        assert not unexplained, f"{t}: switches without a large displacement (bugs?) {unexplained}; {summary}"
    assert "## Attribution" in (res / "curves.md").read_text()
    assert (res / "curves.png").read_bytes().startswith(b"\x89PNG")
    level = res / "none" / "drop_rate~0.0" / "ego_compensation~false"
    assert sorted(p.name for p in (level / "metrics").glob("*.json")) == [f"{t}.json" for t in TRACKERS]
    for rule in ("gap_ablation", "train_trackssm_seed0"):
        assert (Path(cfg["results"]) / "benchmarks" / f"{rule}.tsv").is_file()


def test_sweep_runs_and_a_new_value_reruns_only_its_block(clean_gap_ablation):
    workdir, cfg = clean_gap_ablation
    cfg = with_change(with_change(cfg, "tracking.sources", ["gt"]), "tracking.trackers", ["kalman"])
    write_config(workdir, cfg)
    snakemake(workdir, "--cores", "2", "sweep_tracking")
    res = Path(cfg["results"]) / "sweep"
    with open(res / "summary.csv") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 2 and {r["match_thresh"] for r in table} == {"0.7", "0.8"}
    assert {r["source"] for r in table} == {"gt"} and {r["kalman__std_weight_velocity"] for r in table} == {"0.00625"}
    best = json.loads((res / "best.json").read_text())
    chosen = best["sources"]["gt"]["kalman"]
    assert best["split"] == "tune" and chosen["cell"] in {r["cell"] for r in table}
    assert chosen["motion"]["std_weight_velocity"] == 0.00625
    assert len(list((res / "heatmaps").glob("idsw_gt_kalman_*.png"))) == 6  # 4 keys: 6 pairs
    assert planned_jobs(workdir, "sweep_tracking") == {}

    write_config(workdir, with_change(cfg, "sweep.grid.match_thresh", [0.7, 0.8, 0.9]))
    assert dict(planned_jobs(workdir, "sweep_tracking")) == {"sweep_block": 1, "sweep_tracking": 1}


def test_a_bad_grid_is_one_line_naming_the_key(tmp_path):
    cfg = with_change(tiny_config(tmp_path), "sweep.grid.min_hits", [2, 2.5])
    config = write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "--dry-run", "sweep_tracking", check=False)
    assert proc.returncode != 0
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "invalid config at sweep.grid.min_hits" in ln]
    assert lines and lines[0].startswith(f"{config}: ") and "2.5 is not of type 'integer'" in lines[0], proc.stderr
