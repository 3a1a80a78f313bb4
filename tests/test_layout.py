"""Size limits of the package: functions small enough to read whole, modules named for one
thing (the synthetic renderer, one long pipeline of drawing steps, is the one exception)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nuscmot"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400
LONG_MODULES = {"synthetic/render.py"}


def modules() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    return files


def test_no_function_is_over_80_lines():
    long = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.name} ({lines} lines)")
    assert long == []


def test_no_module_is_over_400_lines_but_the_renderer():
    long = [f"{rel} ({n} lines)" for path in modules()
            if (n := path.read_text().count("\n")) > MAX_MODULE_LINES
            and (rel := path.relative_to(PACKAGE).as_posix()) not in LONG_MODULES]
    assert long == []
