"""Gap-ablation levels, their gt_detections params, degradation determinism, curves."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nuscmot.stages import gap_ablation as gap_ablation_summary
from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.sweep import ablation
from nuscmot.sweep.plan import SweepPlan
from nuscmot.tracking import gt_detections
from support.simulate import Camera, simulate_scene

BASE = {"seed": 3, "drop_rate": 0.9, "jitter": 0.9, "false_positives_per_frame": 9.0, "score_low": 0.3}


def plan(**gap):
    return SweepPlan({"gt_detections": BASE, "gap_ablation": gap, "tracking": {}})


def test_levels_share_the_no_drop_level():
    p = plan(drop_rates=[0.2, 0.0, 0.1], drop_modes=["independent", "burst"])
    assert list(p.levels) == [
        "none/drop_rate~0.0",
        "independent/drop_rate~0.1", "independent/drop_rate~0.2",
        "burst/drop_rate~0.1", "burst/drop_rate~0.2",
    ]  # fmt: skip
    assert all(re.fullmatch(p.level_regex, n) for n in p.levels)
    assert not re.fullmatch(p.level_regex, "burst/drop_rate~0.3")


def test_level_params_are_the_gt_detections_slice_with_the_level_values():
    p = plan(drop_rates=[0.0, 0.3], drop_modes=["burst"], jitter=0.0, false_positives_per_frame=0.0)
    params = json.loads(p.level_params("burst/drop_rate~0.3"))
    assert params == {**BASE, "drop_rate": 0.3, "drop_mode": "burst", "jitter": 0.0, "false_positives_per_frame": 0.0}
    # The tracking stage's own config class accepts every level's params.
    for name in p.levels:
        cfg = from_dict(gt_detections.DegradeConfig, json.loads(p.level_params(name)), where="gt_detections")
        assert cfg.drop_rate == p.levels[name].drop_rate
    # Adding a rate leaves the existing levels' params alone.
    q = plan(drop_rates=[0.0, 0.3, 0.4], drop_modes=["burst"], jitter=0.0, false_positives_per_frame=0.0)
    assert all(q.level_params(n) == p.level_params(n) for n in p.levels)


@pytest.mark.parametrize(
    "gap", [{"drop_rates": [1.0]}, {"drop_rates": [0.1, 0.1]}, {"drop_modes": ["sometimes"]}, {"jitter": -1}]
)
def test_bad_ablation_config(gap):
    with pytest.raises(InputError):
        plan(**gap)


@pytest.mark.parametrize("mode", ["independent", "burst"])
def test_degradation_is_deterministic_from_the_seed(mode):
    gt = simulate_scene(np.random.default_rng(0), 30, 12, Camera(320, 180))
    p = plan(drop_rates=[0.3], drop_modes=[mode])
    cfg = gt_detections.DegradeConfig(**json.loads(p.level_params(f"{mode}/drop_rate~0.3")))

    def run(seed):
        return gt_detections.degrade(gt, cfg, gt_detections.sequence_rng(seed, "scene-0001"), img_size=(320, 180), n_frames=30)

    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
    assert 0 < len(a) < len(gt)


def test_curve_rows_repeat_the_no_drop_level_under_every_mode():
    cfg = ablation.GapAblationConfig(drop_rates=(0.0, 0.2), drop_modes=("independent", "burst"))
    per_level = {
        lv.name: {"ego_compensation~false": {
            t: {"IDSW": i + 10 * k, "MOTA": 0.9, "IDF1": 0.8, "num_objects": 100, "FN": 50 * i} for k, t in enumerate(["kalman", "trackssm"])
        }}
        for i, lv in enumerate(ablation.levels(cfg))
    }  # fmt: skip
    rows = ablation.curve_rows(per_level, cfg, ["kalman", "trackssm"])
    assert {r["ego_compensation"] for r in rows} == {False}
    assert [(r["tracker"], r["mode"], r["drop_rate"], r["IDSW"]) for r in rows] == [
        ("kalman", "independent", 0.0, 0), ("kalman", "independent", 0.2, 1),
        ("kalman", "burst", 0.0, 0), ("kalman", "burst", 0.2, 2),
        ("trackssm", "independent", 0.0, 10), ("trackssm", "independent", 0.2, 11),
        ("trackssm", "burst", 0.0, 10), ("trackssm", "burst", 0.2, 12),
    ]  # fmt: skip
    assert rows[1]["IDSW_per_100_tracked"] == pytest.approx(100 * 1 / 50) and rows[3]["IDSW_per_100_tracked"] is None
    att = ablation.attribution(rows)
    assert att[0] == {"tracker": "kalman", "ego_compensation": False, "mode": "independent", "lowest_drop_rate": 0.0, "IDSW_at_lowest": 0,
                      "highest_drop_rate": 0.2, "IDSW_at_highest": 1, "IDSW_added_by_gaps": 1,
                      "rate_at_lowest": 0.0, "rate_at_highest": 2.0, "FN_at_lowest": 0, "FN_at_highest": 50}  # fmt: skip


def test_ego_compensation_axis_paths_and_params():
    p = SweepPlan({"gt_detections": BASE, "gap_ablation": {"ego_compensation": [False, True]},
                   "tracking": {"association": {"match_thresh": 0.9}, "motion": {"kalman": {"std_weight_position": 0.05}}}})  # fmt: skip
    assert p.ego == {"ego_compensation~false": False, "ego_compensation~true": True}
    assert re.fullmatch(p.ego_regex, "ego_compensation~true") and not re.fullmatch(p.ego_regex, "ego_compensation~maybe")
    on = json.loads(p.gap_track_params("kalman", "ego_compensation~true"))
    assert on == {"cfg": {"match_thresh": 0.9, "ego_compensation": True}, "motion": {"std_weight_position": 0.05}}
    # the tracker's own config class takes it
    from nuscmot.tracking.config import AssociationConfig

    assert from_dict(AssociationConfig, on["cfg"], where="tracking.association").ego_compensation is True
    assert list(plan().ego) == ["ego_compensation~false"]  # default: compensation off only


@pytest.mark.parametrize("ego", [[], [True, True], ["yes"]])
def test_bad_ego_compensation_axis(ego):
    with pytest.raises(InputError, match="ego_compensation"):
        plan(ego_compensation=ego)


def write_metrics(root, cfg, egos=("ego_compensation~false",)):
    paths = []
    for i, level in enumerate(plan(**cfg).levels):
        for e, ego in enumerate(egos):
            for t in ("kalman", "trackssm"):
                p = root / "gap_ablation" / level / ego / "metrics" / f"{t}.json"
                p.parent.mkdir(parents=True, exist_ok=True)
                overall = {"IDSW": 2 * i + e, "IDSW_trackeval": i, "MOTA": 0.9 - 0.1 * i + 0.01 * e, "IDF1": 0.8, "HOTA": 0.7, "FP": 0,
                           "FN": i, "Frag": 0, "num_objects": 100}  # fmt: skip
                p.write_text(json.dumps({"tracker": t, "sequences": {}, "overall": overall}))
                paths.append(p)
    return paths


def summary_argv(cfg, paths, out):
    return ["--params", json.dumps({"cfg": cfg, "gt_detections": {"seed": 0}, "trackers": ["kalman", "trackssm"]}),
            "--metrics", *map(str, paths), "--out-csv", str(out / "curves.csv"), "--out-md", str(out / "curves.md"),
            "--out-png", str(out / "curves.png")]  # fmt: skip


def test_gap_ablation_summary_entry_point(tmp_path):
    cfg = {"drop_rates": [0.0, 0.2], "drop_modes": ["independent", "burst"], "jitter": 0.0, "false_positives_per_frame": 0.0}
    paths = write_metrics(tmp_path, cfg)
    out = tmp_path / "out"
    argv = summary_argv(cfg, paths, out)
    gap_ablation_summary.main(argv)
    lines = (out / "curves.csv").read_text().splitlines()
    assert lines[0].startswith("tracker,ego_compensation,mode,drop_rate,level,IDSW,") and len(lines) == 1 + 2 * 2 * 2
    assert lines[1].startswith("kalman,False,independent,0.000000,none/drop_rate~0.0,0,")
    assert lines[4].startswith("kalman,False,burst,0.200000,burst/drop_rate~0.2,4,")
    md = (out / "curves.md").read_text()
    assert "**kalman**, burst: 0 IDSW (0.00 per 100 tracked) at 0% drops, 4 (4.08 per 100 tracked) at 20%: +4 IDSW, FN 0 -> 2." in md
    assert "## Ego-motion compensation" not in md  # only one setting ran
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(InputError, match="no metrics for 2 level/setting/tracker"):
        gap_ablation_summary.main(argv[:3] + [a for a in argv[3:] if "burst" not in a])


def test_gap_ablation_summary_compares_compensation_on_and_off(tmp_path):
    cfg = {"drop_rates": [0.0, 0.2], "drop_modes": ["burst"], "ego_compensation": [False, True]}
    paths = write_metrics(tmp_path, cfg, ("ego_compensation~false", "ego_compensation~true"))
    out = tmp_path / "out"
    gap_ablation_summary.main(summary_argv(cfg, paths, out))
    lines = (out / "curves.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 2 * 2
    assert lines[3].startswith("kalman,True,burst,0.000000,none/drop_rate~0.0,1,")
    md = (out / "curves.md").read_text()
    section = md[md.index("## Ego-motion compensation"):]
    assert "| kalman    | burst  | 20       | 2          | 3         | 0.800      | 0.810     |" in section
    assert "**kalman** (ego compensation on), burst: 1 IDSW" in md
    with pytest.raises(InputError, match="no metrics for 4 level/setting/tracker"):  # 2 levels x 2 trackers
        gap_ablation_summary.main(summary_argv(cfg, [p for p in paths if "~true" not in str(p)], out))
