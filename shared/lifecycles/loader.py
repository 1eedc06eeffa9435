"""Loads and validates the lifecycle files (adding a case type = adding a YAML file)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from shared.lifecycles.checks import check_lifecycle
from shared.lifecycles.model import Lifecycle

LIFECYCLE_DIR = Path(__file__).resolve().parent / "data"

Check = Callable[[Lifecycle], list[str]]
"""A reader's own check of a lifecycle (e.g. intake's: every guard it names exists); returns problems."""


class LifecycleError(ValueError):
    """A lifecycle file is unreadable or inconsistent; the message names the file."""


def problems_of(exc: ValidationError) -> str:
    """A pydantic error as one line: `where: what; ...`."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<file>'}: {e['msg']}" for e in exc.errors())


def load_lifecycle_file(path: Path, checks: tuple[Check, ...] = ()) -> Lifecycle:
    """Parse and check one lifecycle file (its consistency, then `checks`); the stem must equal its case_type."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        lifecycle = Lifecycle.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise LifecycleError(f"{path.name}: cannot read lifecycle: {exc}") from exc
    except ValidationError as exc:
        raise LifecycleError(f"{path.name}: invalid lifecycle: {problems_of(exc)}") from exc
    if lifecycle.case_type != path.stem:
        raise LifecycleError(f"{path.name}: case_type {lifecycle.case_type!r} must match the file name")
    problems = [p for check in (check_lifecycle, *checks) for p in check(lifecycle)]
    if problems:
        raise LifecycleError(f"{path.name}: invalid lifecycle: {'; '.join(problems)}")
    return lifecycle


@lru_cache(maxsize=8)
def _load_dir(directory: Path, checks: tuple[Check, ...]) -> dict[str, Lifecycle]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise LifecycleError(f"{directory}: no lifecycle files found")
    return {f.stem: load_lifecycle_file(f, checks) for f in files}


@lru_cache(maxsize=8)
def _resolved(directory: Path) -> Path:
    return directory.resolve()


def load_lifecycles(directory: Path | None = None, checks: tuple[Check, ...] = ()) -> dict[str, Lifecycle]:
    """All lifecycles keyed by case type; cached, validated at first load (raises LifecycleError)."""
    # Called for every case.open: the path is resolved once (realpath is a system call per part).
    return dict(_load_dir(_resolved(directory or LIFECYCLE_DIR), checks))
