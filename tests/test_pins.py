"""Every pin agrees: pyproject.toml, requirements.txt, constraints.txt, envs/*.yaml, Makefile."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"unpinned requirement {line!r}"
        pins[_norm(name)] = version.strip()
    return pins


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_requirements_match_pyproject(pyproject):
    project = _pins(pyproject["project"]["dependencies"])
    for extra in ("test", "cluster"):
        project.update(_pins(pyproject["project"]["optional-dependencies"][extra]))
    reqs = _pins((ROOT / "requirements.txt").read_text().splitlines())
    assert project.pop("torch") == "2.13.0"
    assert reqs == project


def test_constraints_agree_with_requirements():
    reqs = _pins((ROOT / "requirements.txt").read_text().splitlines())
    cons = _pins((ROOT / "constraints.txt").read_text().splitlines())
    for name, version in reqs.items():
        assert cons.get(name) == version, name


@pytest.mark.parametrize("env", sorted((ROOT / "envs").glob("*.yaml")), ids=lambda p: p.stem)
def test_conda_env_pins_match_pyproject(env, pyproject):
    project = _pins(pyproject["project"]["dependencies"])
    spec = yaml.safe_load(env.read_text())
    pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    pins = _pins(pip)
    assert pins, env
    for name, version in pins.items():
        assert project.get(name) == version, f"{env.name}: {name}=={version} vs pyproject {project.get(name)}"
    assert "python=3.11" in spec["dependencies"]


def test_nodeps_packages_pinned_alike(pyproject):
    nodeps = _pins(pyproject["project"]["optional-dependencies"]["nodeps"])
    makefile = (ROOT / "Makefile").read_text()
    scripts = " ".join(p.read_text() for p in (ROOT / "envs").glob("*.post-deploy.sh"))
    for name, version in nodeps.items():
        assert re.search(rf"{name}=={re.escape(version)}", makefile, re.I), name
        assert re.search(rf"{name}=={re.escape(version)}", scripts, re.I), name
