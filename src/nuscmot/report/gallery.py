"""The switch gallery: what an identity switch looks like, for the reference runs (the baseline
and the reference run of the other model, e.g. kalman vs trackssm-s0) on each reference
detection source.

Strips (JPEG, one per switch): crops of the CAM_FRONT image at frames t-2..t+1 around the
switching object, with the GT boxes (white), each tracker's boxes and ids (one colour per
tracker) and the switching object's GT box (yellow). Chosen: every switch in the
:data:`TOP_SEQUENCES` sequences with the largest IDSW difference, then the switches only one of
the two trackers made, at most :data:`MAX_STRIPS` per source (the report stays small). One
animation (GIF) of the sequence with the largest difference (over the sources): both trackers
side by side, ids drawn. ``index.json`` lists what was drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from nuscmot.common.io import atomic_dir, atomic_path, write_json
from nuscmot.common.mot import read_image_list
from nuscmot.evaluation.sequences import load_gt, load_results
from nuscmot.evaluation.switches import per_sequence, read_switches
from nuscmot.report.draw import TRACKER_COLOURS, Footage, caption_bar, crop_region, draw_frame

TOP_SEQUENCES = 2
MAX_STRIPS = 16  # per detection source
STRIP_HEIGHT = 150  # px of each crop in a strip
GIF_WIDTH = 320  # px of each side of the animation
BEFORE, AFTER = 2, 1  # strip frames: t-2 .. t+1


def load_footage(mot_dir: Path, dataroot: Path, results: Mapping[str, Path], name: str) -> Footage:
    gt = load_gt(mot_dir, name)
    images = [Path(dataroot) / p for p in read_image_list(Path(mot_dir) / name / "img1.txt")]
    tracks = {run: load_results(folder, name, gt.length) for run, folder in results.items()}
    return Footage(name, images, gt.rows, tracks)


def sequence_differences(switches: Mapping[str, list[dict]]) -> list[tuple[str, dict[str, int]]]:
    """Sequences by |IDSW difference| between the two runs (then by total), with their counts."""
    counts = {run: per_sequence(rows) for run, rows in switches.items()}
    seqs = sorted({s for c in counts.values() for s in c})
    table = [(s, {run: c.get(s, 0) for run, c in counts.items()}) for s in seqs]
    runs = list(switches)

    def key(item):
        n = item[1]
        return (-abs(n[runs[0]] - n[runs[-1]]), -sum(n.values()), item[0])

    return sorted(table, key=key)


def pick_switches(switches: Mapping[str, list[dict]], order: Sequence[str]) -> list[tuple[str, dict]]:
    """``(run, switch row)`` to draw: all switches of the top sequences, then those only one
    tracker made, at most :data:`MAX_STRIPS`."""
    top = set(order[:TOP_SEQUENCES])
    first = [(run, r) for run, rows in switches.items() for r in rows if r["sequence"] in top]
    alone = [(run, r) for run, rows in switches.items() for r in rows
             if r["sequence"] not in top and r["other_switched"] is False]
    picked = first + alone
    picked.sort(key=lambda x: (order.index(x[1]["sequence"]) if x[1]["sequence"] in order else 99, x[1]["frame"]))
    return picked[:MAX_STRIPS]


def strip_text(run: str, row: Mapping[str, Any], runs: Sequence[str]) -> str:
    other = row["other_tracker"] or "the other tracker"
    also = "also switched" if row["other_switched"] else "did not switch"
    return (f"{row['sequence']} frame {row['frame']}: GT {row['gt_id']} ({row['class']}, vis {row['visibility']}) "
            f"{run} {row['previous_track_id']}->{row['new_track_id']} after {row['frames_since_matched']} f; "
            f"{other} {also} (+-2 f)")


def draw_strip(foot: Footage, run: str, row: Mapping[str, Any], runs: Sequence[str], colours: Mapping[str, tuple]):
    """Crops at frames t-2..t+1 side by side under a caption bar."""
    from PIL import Image

    t, n = row["frame"], len(foot.images)
    frames = [f for f in range(t - BEFORE, t + AFTER + 1) if 1 <= f <= n]
    crops = []
    for f in frames:
        img = draw_frame(foot, f, runs, colours, gt_id=row["gt_id"])
        crop = img.crop(crop_region(foot, frames, row["gt_id"], img.size))
        crop = crop.resize((max(1, round(crop.width * STRIP_HEIGHT / crop.height)), STRIP_HEIGHT))
        label = caption_bar(crop.width, f"t{f - t:+d}" if f != t else "t (switch)", 16)
        tile = Image.new("RGB", (crop.width, crop.height + label.height))
        tile.paste(label, (0, 0))
        tile.paste(crop, (0, label.height))
        crops.append(tile)
    width = sum(c.width for c in crops) + 4 * (len(crops) - 1)
    strip = Image.new("RGB", (max(width, 480), crops[0].height + 18), (0, 0, 0))
    strip.paste(caption_bar(strip.width, strip_text(run, row, runs)), (0, 0))
    x = 0
    for c in crops:
        strip.paste(c, (x, 18))
        x += c.width + 4
    return strip


def save_jpeg(img, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        img.save(tmp, format="JPEG", quality=80)


def animation(foot: Footage, runs: Sequence[str], colours: Mapping[str, tuple], switches: Mapping[str, list[dict]],
              path: Path) -> None:
    """Every frame of ``foot`` with each run side by side (ids drawn; a switching object's GT box
    yellow in the frame of its switch), as a GIF at the keyframe rate (2 Hz)."""
    from PIL import Image

    frames = []
    for f in range(1, len(foot.images) + 1):
        sides = []
        for run in runs:
            hits = [r["gt_id"] for r in switches[run] if r["sequence"] == foot.name and r["frame"] == f]
            img = draw_frame(foot, f, [run], colours, gt_id=hits[0] if hits else None,
                             scale=GIF_WIDTH / Image.open(foot.images[0]).width)
            bar = caption_bar(img.width, f"{run}: {foot.name} frame {f}/{len(foot.images)}"
                              + (f"  SWITCH (GT {', '.join(map(str, hits))})" if hits else ""))
            side = Image.new("RGB", (img.width, img.height + bar.height))
            side.paste(bar, (0, 0))
            side.paste(img, (0, bar.height))
            sides.append(side)
        canvas = Image.new("RGB", (sum(s.width for s in sides) + 4 * (len(sides) - 1), sides[0].height))
        for k, s in enumerate(sides):
            canvas.paste(s, (k * (s.width + 4), 0))
        frames.append(canvas.quantize(colors=64))
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=500, loop=0)


def source_gallery(source: str, results: Mapping[str, Path], switch_files: Mapping[str, Path], mot_dir: Path,
                   dataroot: Path, folder: Path) -> dict[str, Any]:
    """The strips of one source in ``folder/<source>/<sequence>/``; its index entry."""
    runs = list(results)
    colours = dict(zip(runs, TRACKER_COLOURS))
    switches = {run: read_switches(switch_files[run]) for run in runs}
    order = [s for s, _ in sequence_differences(switches)]
    strips, cache = [], {}
    for run, row in pick_switches(switches, order):
        seq = row["sequence"]
        foot = cache.setdefault(seq, load_footage(mot_dir, dataroot, results, seq))
        rel = Path(source) / seq / f"{source}_{seq}_f{row['frame']:03d}_gt{row['gt_id']}_{run}.jpg"
        save_jpeg(draw_strip(foot, run, row, runs, colours), folder / rel)
        strips.append({"file": str(rel), "run": run, "text": strip_text(run, row, runs), **row})
    return {"runs": runs, "colours": {r: "#%02x%02x%02x" % c for r, c in colours.items()},
            "sequences": [{"sequence": s, "idsw": n} for s, n in sequence_differences(switches)],
            "strips": strips, "switches": {run: len(rows) for run, rows in switches.items()}}


def worst_sequence(index: Mapping[str, Any], names: Sequence[str]) -> tuple[str, str]:
    """(source, sequence) with the largest |IDSW difference| of the two runs over the sources
    (ties: the first source); the first sequence of the first source where nothing switched."""
    best = (next(iter(index)), names[0], -1)
    for source, entry in index.items():
        for seq in entry["sequences"][:1]:
            a, b = (seq["idsw"][r] for r in (entry["runs"][0], entry["runs"][-1]))
            if abs(a - b) > best[2]:
                best = (source, seq["sequence"], abs(a - b))
    return best[0], best[1]


def write_gallery(sources: Mapping[str, Mapping[str, Path]], switch_dirs: Mapping[str, Path], mot_dir: Path,
                  names: Sequence[str], dataroot: Path, out_dir: Path, gif: Path) -> dict[str, Any]:
    """Strips of every source (``sources[source] = {run: results folder}``, the two reference
    runs) in ``out_dir`` with ``index.json``; the animation of the first source's sequence with
    the largest IDSW difference (over the sources) at ``gif``."""
    index: dict[str, Any] = {}
    with atomic_dir(out_dir) as tmp:
        for source, results in sources.items():
            files = {run: Path(switch_dirs[source]) / f"{run}.csv" for run in results}
            index[source] = source_gallery(source, results, files, mot_dir, dataroot, tmp)
        first, worst = worst_sequence(index, names)
        index["animation"] = {"source": first, "sequence": worst, "runs": list(sources[first])}
        write_json(tmp / "index.json", index)
    results = sources[first]
    switches = {run: read_switches(Path(switch_dirs[first]) / f"{run}.csv") for run in results}
    animation(load_footage(mot_dir, dataroot, results, worst), list(results), dict(zip(results, TRACKER_COLOURS)),
              switches, gif)
    return index
