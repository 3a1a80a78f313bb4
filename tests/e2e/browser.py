"""Headless Chromium for the report tests: the rendered DOM, a screenshot and the console."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BENIGN = ("cdn.tailwindcss.com should not be used in production",)  # Snakemake's template, bundled inline
INSTALL = "no headless Chromium (apt-get install -y chromium; .ci/run installs it)"


def chromium() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@dataclass(frozen=True)
class Rendered:
    dom: str
    screenshot: Path
    console: list[str]  # console messages Chromium logged (one line each)

    def console_errors(self) -> list[str]:
        """Every console message but the known notice of the report's bundled Tailwind: headless
        Chromium logs console.error, warnings and uncaught exceptions all at one level, so
        anything else the page says counts as an error."""
        return [ln for ln in self.console if not any(ok in ln for ok in BENIGN)]


def render(page: Path, out: Path, size: tuple[int, int] = (1400, 900), budget_ms: int = 10000) -> Rendered:
    """Load ``page`` (a local file) in headless Chromium: the DOM after ``budget_ms`` of virtual
    time, a screenshot of the window and the console log."""
    exe = chromium()
    assert exe, INSTALL
    out.mkdir(parents=True, exist_ok=True)
    common = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              f"--user-data-dir={out / 'profile'}", "--enable-logging=stderr", "--v=0",
              f"--virtual-time-budget={budget_ms}", f"--window-size={size[0]},{size[1]}"]
    url = page.resolve().as_uri()
    shot = out / f"{page.stem}.png"
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    snap = subprocess.run([*common, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120)
    console = [ln for ln in (dom.stderr + snap.stderr).splitlines() if "CONSOLE" in ln]
    assert shot.is_file(), snap.stderr[-2000:]
    return Rendered(dom.stdout, shot, console)


def text_of(dom: str) -> str:
    """The DOM's rendered text: scripts and styles dropped (the report keeps its data in
    scripts), then tags; whitespace collapsed."""
    shown = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown))


def pixel_std(image) -> float:
    """Standard deviation of the grey levels of a PIL image (0: a blank, single-colour image)."""
    import numpy as np

    return float(np.asarray(image.convert("L"), dtype=np.float64).std())


def data_uri_images(html: str, mime: str = "image/jpeg") -> list:
    """The ``<img>`` data URIs of ``mime`` in ``html``, decoded (PIL images)."""
    from PIL import Image

    found = re.findall(rf'<img src="data:{re.escape(mime)};base64,([^"]+)"', html)
    return [Image.open(io.BytesIO(base64.b64decode(b))) for b in found]
