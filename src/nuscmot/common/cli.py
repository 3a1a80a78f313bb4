"""Entry-point plumbing shared by every stage, ``python -m nuscmot.stages.<rule>``.

Each rule passes its config slice as one JSON string (``--params``); paths come as
separate arguments. :func:`run` turns :class:`NuscmotError` into one line on stderr and
exit status 2, so Snakemake logs show the cause, not a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Callable, Sequence

from nuscmot.common.errors import InputError, NuscmotError


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--params",
        required=True,
        help="the rule's config slice as a JSON object (or @file.json)",
    )
    return p


def json_arg(text: str, flag: str, what: str = "not JSON") -> Any:
    """A command-line argument holding JSON, parsed; else one line naming ``flag``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(flag, f"{what} ({exc.msg} at char {exc.pos})") from None


def load_params(raw: str) -> dict[str, Any]:
    """Parse ``--params``: inline JSON, or ``@path`` to a JSON/YAML file."""
    source = "--params"
    if raw.startswith("@"):
        source = raw[1:]
        try:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise InputError(source, f"cannot read params file ({exc.strerror})") from None
        if source.endswith((".yaml", ".yml")):
            import yaml

            value = yaml.safe_load(text)
            if not isinstance(value, dict):
                raise InputError(source, "params must be a mapping")
            return value
        raw = text
    value = json_arg(raw, source, "params are not valid JSON")
    if not isinstance(value, dict):
        raise InputError(source, "params must be a JSON object")
    return value


def tracker_names(params: dict[str, Any]) -> list[str]:
    """``params["trackers"]``, a non-empty list of non-empty names, else an InputError."""
    names = params.get("trackers")
    if not isinstance(names, list) or not names or not all(isinstance(t, str) and t for t in names):
        raise InputError("--params", "needs 'trackers': a non-empty list of tracker names", key="trackers")
    return names


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def run(main: Callable[[Sequence[str] | None], Any], argv: Sequence[str] | None = None) -> None:
    """Call ``main(argv)``; report :class:`NuscmotError` as one line and exit 2."""
    setup_logging()
    try:
        main(argv)
    except NuscmotError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)  # (a progress bar may have left its line open)
        sys.exit(exc.exit_code)
