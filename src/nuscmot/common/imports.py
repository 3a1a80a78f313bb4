"""The import graph of the ``nuscmot`` package, read from the source with :mod:`ast`.

The workflow lists, as code inputs of each rule, the module files its stage imports
(directly or through other ``nuscmot`` modules, at module level or inside a function), so
that editing a module reruns exactly the jobs that run it. Nothing is imported or executed
here: the walk is cheap enough to run every time the workflow is parsed.

A module's files are its own file plus the ``__init__.py`` of every enclosing package, since
Python runs those first. ``prune`` names modules not to follow (a job that never runs
them: the Kalman tracking job does not load the TrackSSM model that ``run_tracker`` imports
lazily for the other motion model).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = "nuscmot"
SRC_ROOT = Path(__file__).resolve().parents[2]  # the folder holding nuscmot/


def module_file(name: str, root: Path = SRC_ROOT) -> Path | None:
    """The file of module ``name`` (dotted) below ``root``, or None if it is not one of ours."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(node: ast.ImportFrom, name: str, path: Path) -> str:
    """Absolute dotted name of the module an ``ImportFrom`` in module ``name`` refers to."""
    if node.level == 0:
        return node.module or ""
    base = name.split(".") if _is_package(path) else name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@lru_cache(maxsize=None)
def direct_imports(name: str, root: Path = SRC_ROOT) -> tuple[str, ...]:
    """The ``nuscmot`` modules that module ``name`` imports anywhere in its source."""
    path = module_file(name, root)
    if path is None:
        return ()
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node, name, path)
            found.add(target)
            # `from pkg import sub` imports the submodule pkg.sub when there is one
            found.update(f"{target}.{a.name}" for a in node.names if module_file(f"{target}.{a.name}", root))
    found = {m for m in found if module_file(m, root) is not None}
    # importing a.b.c runs a/__init__.py and a/b/__init__.py first
    for mod in list(found):
        parts = mod.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    found.discard(name)
    return tuple(sorted(found))


def closure(entry: str, prune: tuple[str, ...] = (), root: Path = SRC_ROOT) -> list[str]:
    """Every ``nuscmot`` module that running ``entry`` can import, sorted; modules at or below
    a name in ``prune`` are neither included nor followed."""
    def pruned(mod: str) -> bool:
        return any(mod == p or mod.startswith(p + ".") for p in prune)

    parts = entry.split(".")
    todo = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    seen: set[str] = set()
    while todo:
        mod = todo.pop()
        if mod in seen or pruned(mod) or module_file(mod, root) is None:
            continue
        seen.add(mod)
        todo.extend(direct_imports(mod, root))
    return sorted(seen)


def closure_files(entry: str, prune: tuple[str, ...] = (), root: Path = SRC_ROOT) -> list[Path]:
    """The source files of :func:`closure`, sorted by path."""
    return sorted(module_file(m, root) for m in closure(entry, prune, root))


def import_cycles(root: Path = SRC_ROOT) -> list[list[str]]:
    """Strongly connected groups (size > 1) of the package's module-level import graph."""
    modules = [
        ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for p in sorted((root / PACKAGE).rglob("*.py"))
    ]
    graph = {m: [d for d in _edges(m, root) if d in modules] for m in modules}
    return [sorted(c) for c in _tarjan(graph) if len(c) > 1]


def _edges(name: str, root: Path) -> list[str]:
    """Direct imports of ``name`` without the parent packages it implies (an edge from a module
    to its own package's __init__ is not a circle)."""
    parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return [d for d in direct_imports(name, root) if d not in parents and not name.startswith(d + ".")]


def _tarjan(graph: dict[str, list[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            groups.append(group)

    for v in graph:
        if v not in index:
            visit(v)
    return groups
