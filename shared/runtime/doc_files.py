"""Generated contract documents (AsyncAPI, OpenAPI): written by a make target, or checked as current."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def module_exists(module: str) -> bool:
    """True when `module` can be imported (a planned service's package may not exist yet)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the service's package itself is missing
        return False


def write_or_check(directory: Path, suffix: str, services: Iterable[str], render: Callable[[str], str],
                   make_target: str) -> int:
    """Write `<service><suffix>` for each service; with --check in argv, report stale ones instead (exit code)."""
    check = "--check" in sys.argv
    stale = []
    directory.mkdir(parents=True, exist_ok=True)
    for service in services:
        path, text = directory / f"{service}{suffix}", render(service)
        if check and (not path.exists() or path.read_text() != text):
            stale.append(path.name)
        elif not check:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)} (run `make {make_target}`)")
    return 1 if stale else 0
