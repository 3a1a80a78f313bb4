"""Kills mid-write, then resume; and determinism: two runs of the tiny DAG, same seeds.

The reference run is uninterrupted; the other run (see ``conftest.py``) is SIGKILLed twice
mid-write and resumed. Once complete, both must hold byte-identical outputs, which shows
at once that the interrupted run recovered cleanly and that the pipeline is deterministic.
Both track GT-derived detections (see ``harness.reliability_config``), so the compared
tracking and evaluation files are not empty.

Bit-exact on CPU (2 runs, same machine, same seeds; all checked here):

- synth: every table JSON, JPEG and map PNG;
- convert: COCO JSONs, MOT gt / seqinfo / image lists, seqmap, splits, trajectory parquet;
- train (CPU, ``OMP_NUM_THREADS=1``): the weights, compared tensor by tensor (the ``.pth``
  bytes differ only because torch records the temp file's name inside its zip archive),
  also across a ``kill -9`` and resume (``test_train_faults.py``); so ``evaluate_detector``'s
  metrics and ``infer``'s detection files too (empty with the tiny detector);
- train_trackssm: the weights (tensors), ``training.json``; heldout_trackssm: ``heldout.json``;
- gt_detections, track (Kalman and TrackSSM), evaluate_tracking, compare_idsw (CSV,
  Markdown, analysis JSON, plots).

Not compared (wall-clock content): logs, benchmarks, TensorBoard runs, ``train_log.txt``,
the detector state folder, ``infer_timing_<source>.json``. GPU training is not bit-exact (cuDNN
autotuning and atomic adds), so on a GPU the detector's weights, detections and everything
tracked from them differ between runs; the stages before ``train`` and those fed by
GT-derived detections stay bit-exact.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .harness import CONVERT_OUTPUTS, LEFTOVER, leftovers, tree_hashes

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# wall-clock content, compared nowhere
NOT_DETERMINISTIC = re.compile(
    r"^results/(logs|benchmarks|detector/runs|trackssm/seed\d+/runs|detector/state)/"
    r"|^results/detector/(train_log\.txt|infer_timing_\w+\.json)$|^results/tune/infer_timing_\w+\.json$"
)
TORCH_FILES = re.compile(r"\.(pth|pt)$")


def compared(rel: str) -> bool:
    """Outputs compared byte for byte (temp files of killed writers: see test_no_temp_files_left_behind)."""
    return (rel.startswith(("data/", "results/")) and not NOT_DETERMINISTIC.search(rel)
            and not TORCH_FILES.search(rel) and not any(LEFTOVER.match(part) for part in rel.split("/")))


def outputs(workdir: Path) -> dict[str, str]:
    hashes = tree_hashes(workdir, compared)
    assert hashes, workdir
    return hashes


# ---- the interrupted run: what each kill left, and that the rerun recovered -------------
def test_power_loss_in_convert_left_no_output(interrupted_steps):
    s = interrupted_steps["power_loss_in_convert"]
    assert s["rc"] == -9, s["stderr"][-2000:]
    assert not any(s["exists"].values()), f"convert outputs after the kill: {s['exists']}"
    # the kill came mid-write: the half-written files exist, under temp names only
    assert any("train.parquet" in p for p in s["leftovers"]), s["leftovers"]


def test_unlock_after_power_loss(interrupted_steps):
    """A SIGKILLed Snakemake leaves its lock (README: Troubleshooting); --unlock removes it."""
    assert interrupted_steps["unlock"]["rc"] == 0, interrupted_steps["unlock"]["stderr"][-2000:]


def test_killed_tracking_job_left_no_output(interrupted_steps):
    s = interrupted_steps["job_killed_in_tracking"]
    assert s["rc"] == 1, s["stderr"][-2000:]
    assert "failed, the end of results/logs/track_gt-d0_kalman.log:" in s["stderr"]  # the console shows the log
    assert not s["exists"]["results/tracking/gt-d0/kalman"]
    assert any(p.startswith("results/tracking/gt-d0/.kalman.") for p in s["leftovers"]), s["leftovers"]


def test_resumed_run_matches_the_clean_run(reference_run, interrupted_run):
    ref, got = outputs(reference_run), outputs(interrupted_run)
    assert sorted(ref) == sorted(got), {"only in reference": sorted(set(ref) - set(got)),
                                        "only after interruption": sorted(set(got) - set(ref))}
    differ = sorted(k for k in ref if ref[k] != got[k])
    assert not differ, f"{len(differ)} of {len(ref)} files differ: {differ[:20]}"
    for rel in CONVERT_OUTPUTS:  # (the outputs of the killed steps are among those compared)
        assert any(k == rel or k.startswith(rel + "/") for k in ref), rel
    # not vacuous: the test sequences have ground truth, detections and tracks
    res = reference_run / "results"
    for pattern in ("mot/test/*/gt/gt.txt", "detections/gt-d0/*.txt", "tracking/gt-d0/kalman/*.txt", "tracking/gt-d0/trackssm-s0/*.txt"):
        files = sorted(res.glob(pattern))
        assert files and sum(len(f.read_text().splitlines()) for f in files) > 0, f"no rows in {pattern}"


@pytest.mark.parametrize("run", ["reference", "interrupted"])
def test_no_temp_files_left_behind(run, reference_run, interrupted_run):
    workdir = reference_run if run == "reference" else interrupted_run
    assert leftovers(workdir / "results", workdir / "data") == []


def test_every_output_is_whole(interrupted_run):
    """Each output parses with its real reader (a half-written file would not)."""
    import pyarrow.parquet as pq
    import torch

    from nuscmot.common.mot import read_mot

    res = interrupted_run / "results"
    for path in res.rglob("*.json"):
        json.loads(path.read_text())
    for path in res.rglob("*.parquet"):
        assert pq.read_table(path).num_rows > 0, path
    kinds = {"mot": "gt", "detections": "det", "tracking": "result"}
    for folder, kind in kinds.items():
        files = [p for p in (res / folder).rglob("*.txt") if p.parent.name != "seqmaps" and p.name != "img1.txt"]
        assert files, folder
        for path in files:
            read_mot(path, kind)
    for path in [*res.rglob("*.pth"), *res.rglob("*.pt")]:
        torch.load(path, map_location="cpu", weights_only=True)


# ---- determinism of the trained weights (CPU) -----------------------------------------
@pytest.mark.parametrize("rel", ["results/detector/weights/best_ckpt.pth", "results/detector/weights/latest_ckpt.pth",
                                 "results/trackssm/seed0/model.pt"])
def test_cpu_training_is_bit_exact(rel, reference_run, interrupted_run):
    import torch

    a = torch.load(reference_run / rel, map_location="cpu", weights_only=True)
    b = torch.load(interrupted_run / rel, map_location="cpu", weights_only=True)
    assert_same(a, b, rel)


def assert_same(a, b, where: str) -> None:
    import torch

    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert sorted(a, key=str) == sorted(b, key=str), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), where
    else:
        assert a == b, where
