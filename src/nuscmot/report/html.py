"""Small HTML builders for the summary page: escaped text, the Markdown inline marks the
comparison's sentences use (``**bold**``, ```code```), tables, images as data URIs."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any, Sequence

MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2em 2em;color:#1d2330;max-width:1180px}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #dde3ee;padding-bottom:.2em;margin-top:1.6em}
h3{margin-bottom:.3em} table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}
th,td{border:1px solid #cfd6e4;padding:.25em .6em;text-align:right} th{background:#eef2f8}
td:first-child,th:first-child{text-align:left} .verdict{background:#f6f8fc;border-left:4px solid #4063d8;
padding:.5em 1em;margin:.6em 0} .verdict p{margin:.3em 0} .muted{color:#5c667a;font-size:.9em}
.bad{border-left-color:#c0392b} img{max-width:100%;border:1px solid #dde3ee;margin:.3em 0}
nav a{margin-right:1.2em} figure{margin:.6em 0} figcaption{font-size:.85em;color:#5c667a}
code{background:#eef2f8;padding:0 .2em;border-radius:3px}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def inline(text: str) -> str:
    """Escaped text with ``**bold**`` and ```code``` marks turned into tags."""
    out = esc(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def paragraphs(lines: Sequence[str]) -> str:
    """Markdown-ish lines (paragraphs, ``- `` list items) as HTML."""
    out, items = [], []
    for line in list(lines) + [""]:
        if line.startswith("- "):
            items.append(f"<li>{inline(line[2:])}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line.strip():
            out.append(f"<p>{inline(line)}</p>")
    return "\n".join(out)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{inline(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def data_uri(path: Path) -> str:
    mime = MIME.get(Path(path).suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(Path(path).read_bytes()).decode('ascii')}"


def figure(path: Path, caption: str, alt: str | None = None) -> str:
    return (f'<figure><img src="{data_uri(path)}" alt="{esc(alt or caption)}">'
            f"<figcaption>{inline(caption)}</figcaption></figure>")


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.{digits}f}"
