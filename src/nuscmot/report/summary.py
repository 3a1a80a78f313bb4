"""The report's first page: the verdict of every detection source (its table, the verdict in the
significance wording of ``compare_idsw.md``, the settings each model used), then the detector,
TrackSSM and the switches (:mod:`nuscmot.report.sections`).

Two files: ``summary.html``, one self-contained page (images as data URIs), registered as the
Snakemake report's first item; and ``verdict.html``, the verdict alone as an HTML fragment that
the report's workflow description (``workflow/report/workflow.rst``) includes, so the report
opens on the answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from nuscmot.common.io import read_json, write_text
from nuscmot.evaluation.compare import SOURCES
from nuscmot.evaluation.markdown import settings_lines
from nuscmot.evaluation.report import floor_lines, fmt, verdict_lines
from nuscmot.report.html import esc, inline, page, paragraphs, table
from nuscmot.report.sections import detector_section, switches_section, trackssm_section

NAV = (("verdict", "Verdict"), ("detector", "Detector"), ("trackssm", "TrackSSM"), ("switches", "Switches"))


def source_label(source: str) -> str:
    return SOURCES.get(source, source)


def overall_rows(result: Mapping[str, Any]) -> list[list[str]]:
    baseline = result["baseline"]
    base = result["overall"][baseline]["IDSW"]
    rows = []
    for t, r in ((t, result["overall"][t]) for t in result.get("trackers") or result["overall"]):
        delta = r["IDSW"] - base
        rows.append([t + (" (baseline)" if t == baseline else ""), str(result["n_runs"][t]), fmt(r["IDSW"], "count"),
                     fmt(delta, "delta"), fmt(r["IDSW"] / base if base else None, "ratio"), fmt(r["MOTA"]),
                     fmt(r["IDF1"]), fmt(r["HOTA"])])
    return rows


OVERALL_HEADER = ["tracker", "runs", "IDSW", "ΔIDSW", "IDSW ratio", "MOTA", "IDF1", "HOTA"]


def verdict_sentences(result: Mapping[str, Any]) -> list[str]:
    """The verdict lines of every compared tracker, as ``compare_idsw.md`` words them."""
    lines: list[str] = []
    for t in result["compared"]:
        lines += verdict_lines(t, result["statistics"][t], result["baseline"], result)
    return lines


def runs_text(result: Mapping[str, Any]) -> str:
    """``kalman x1, trackssm x3, iou x1`` in tracking.trackers' order."""
    return ", ".join(f"{t} x{result['n_runs'][t]}" for t in result.get("trackers") or result["n_runs"])


def source_block(source: str, result: Mapping[str, Any], *, settings: bool) -> str:
    """One source: heading, detection recall, overall table, verdict (and the settings used)."""
    flag = "" if result["meaningful"] else " (not meaningful)"
    cls = "verdict" if result["meaningful"] else "verdict bad"
    out = [f"<h3>Detections: {inline(source_label(source))}{esc(flag)}</h3>",
           f"<p class=\"muted\">Detection recall (GT boxes matched by a detection): "
           f"{fmt(result['detection_recall'])}; runs: {esc(runs_text(result))}."
           "</p>",
           table(OVERALL_HEADER, overall_rows(result)),
           paragraphs(floor_lines(result)),
           f'<div class="{cls}">{paragraphs(verdict_sentences(result))}</div>']
    if settings:
        out.append(paragraphs(settings_lines(result)))
    return "\n".join(out)


def sources_of(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every source's result, in tracking.sources' order (recorded by compare_idsw)."""
    order = (doc.get("params") or {}).get("sources") or sorted(k for k in doc if k != "params")
    return {k: doc[k] for k in order if k in doc}


def verdict_section(doc: Mapping[str, Any], *, settings: bool = True) -> str:
    sources = sources_of(doc)
    first = next(iter(sources.values()))
    n = len(first["sequences"])
    intro = (f"<p>{esc(' vs '.join(first['trackers']))} (baseline {esc(first['baseline'])}) on {n} CAM_FRONT test "
             f"sequence{'s' if n != 1 else ''}, each model at its own settings; a tracker with several runs "
             "(training seeds, GT draws) is their mean, every difference paired with the baseline on the same "
             "detections. Full tables: <code>results/compare_idsw.md</code>.</p>")
    return "\n".join([intro] + [source_block(s, r, settings=settings) for s, r in sources.items()])


def summary_page(doc: Mapping[str, Any], detector: Mapping[str, Any], detector_plots: Path,
                 trackssm: Mapping[str, Mapping[str, Any]], gallery: Mapping[str, Any], gallery_dir: Path,
                 gif: Path) -> str:
    nav = "<nav>" + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in NAV) + "</nav>"
    body = [
        "<h1>nuscmot: which motion model switches identities less?</h1>", nav,
        '<h2 id="verdict">Verdict</h2>', verdict_section(doc),
        detector_section(detector, detector_plots),
        trackssm_section(trackssm) if trackssm else "",
        switches_section(gallery, gallery_dir, gif),
    ]
    return page("nuscmot: the verdict", "\n".join(body))


# Snakemake's report centres its first page vertically: a rule graph taller than the window
# pushes the description's top out of reach. Top-aligned, the verdict is the first thing seen.
TOP_ALIGN = ("<style>div.grow.items-center.h-screen{align-items:flex-start}"
             # its Tailwind prose style wraps inline code in backticks: not in our verdict
             ".nuscmot-verdict code::before,.nuscmot-verdict code::after{content:none}</style>")


def verdict_fragment(doc: Mapping[str, Any]) -> str:
    """The verdict of every source without the settings: the top of the report's first page."""
    return f'{TOP_ALIGN}\n<div class="nuscmot-verdict">\n{verdict_section(doc, settings=False)}\n</div>\n'


def write_summary(compare_json: Path, detector_json: Path, detector_plots: Path,
                  trackssm: Mapping[str, Mapping[str, Path]], gallery_dir: Path, gif: Path, out_html: Path,
                  out_fragment: Path) -> None:
    """``summary.html`` and the ``verdict.html`` fragment from the pipeline's outputs
    (``trackssm[seed] = {"training": ..., "heldout": ...}``)."""
    doc = read_json(compare_json, "comparison analysis")
    seeds = {seed: {k: read_json(p, f"TrackSSM {k} report") for k, p in files.items()}
             for seed, files in trackssm.items()}
    gallery = read_json(Path(gallery_dir) / "index.json", "gallery index")
    html = summary_page(doc, read_json(detector_json, "detector metrics"), Path(detector_plots), seeds, gallery,
                        Path(gallery_dir), Path(gif))
    write_text(out_html, html)
    write_text(out_fragment, verdict_fragment(doc))
