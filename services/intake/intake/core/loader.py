"""Loads and validates every lifecycle file once (adding a case type = adding a YAML file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from intake.core.lifecycle import Lifecycle

LIFECYCLE_DIR = Path(__file__).resolve().parent.parent / "lifecycles"


class LifecycleError(ValueError):
    """A lifecycle file is unreadable or inconsistent; the message names the file."""


def load_lifecycle_file(path: Path) -> Lifecycle:
    """Parse and validate one lifecycle file; the file stem must equal its case_type."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        lifecycle = Lifecycle.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise LifecycleError(f"{path.name}: cannot read lifecycle: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<file>'}: {e['msg']}" for e in exc.errors())
        raise LifecycleError(f"{path.name}: invalid lifecycle: {problems}") from exc
    if lifecycle.case_type != path.stem:
        raise LifecycleError(f"{path.name}: case_type {lifecycle.case_type!r} must match the file name")
    return lifecycle


@lru_cache(maxsize=4)
def _load_dir(directory: Path) -> dict[str, Lifecycle]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise LifecycleError(f"{directory}: no lifecycle files found")
    return {f.stem: load_lifecycle_file(f) for f in files}


def load_lifecycles(directory: Path | None = None) -> dict[str, Lifecycle]:
    """All lifecycles keyed by case type; cached, validated at first load (raises LifecycleError)."""
    return dict(_load_dir((directory or LIFECYCLE_DIR).resolve()))
