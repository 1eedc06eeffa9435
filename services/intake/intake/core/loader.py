"""Loads and validates the lifecycle files (adding a case type = adding a YAML file) and the trigger table."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from intake.core.lifecycle import Lifecycle
from intake.core.trigger_rules import TriggerRules

LIFECYCLE_DIR = Path(__file__).resolve().parent.parent / "lifecycles"
# Outside LIFECYCLE_DIR on purpose: every *.yaml there is read as a lifecycle.
TRIGGER_FILE = Path(__file__).resolve().parent.parent / "data" / "triggers.yaml"


class LifecycleError(ValueError):
    """A lifecycle file is unreadable or inconsistent; the message names the file."""


class TriggerRulesError(LifecycleError):
    """The trigger table is unreadable or inconsistent; the message names the file."""


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<file>'}: {e['msg']}" for e in exc.errors())


def load_lifecycle_file(path: Path) -> Lifecycle:
    """Parse and validate one lifecycle file; the file stem must equal its case_type."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        lifecycle = Lifecycle.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise LifecycleError(f"{path.name}: cannot read lifecycle: {exc}") from exc
    except ValidationError as exc:
        raise LifecycleError(f"{path.name}: invalid lifecycle: {_problems(exc)}") from exc
    if lifecycle.case_type != path.stem:
        raise LifecycleError(f"{path.name}: case_type {lifecycle.case_type!r} must match the file name")
    return lifecycle


@lru_cache(maxsize=4)
def _load_dir(directory: Path) -> dict[str, Lifecycle]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise LifecycleError(f"{directory}: no lifecycle files found")
    load_trigger_rules()  # lifecycles name its triggers: a broken table fails as early as a broken lifecycle
    return {f.stem: load_lifecycle_file(f) for f in files}


def load_lifecycles(directory: Path | None = None) -> dict[str, Lifecycle]:
    """All lifecycles keyed by case type; cached, validated at first load (raises LifecycleError)."""
    return dict(_load_dir((directory or LIFECYCLE_DIR).resolve()))


def load_trigger_file(path: Path) -> TriggerRules:
    """Parse and validate a trigger table (raises TriggerRulesError naming the file)."""
    try:
        return TriggerRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise TriggerRulesError(f"{path.name}: cannot read trigger table: {exc}") from exc
    except ValidationError as exc:
        raise TriggerRulesError(f"{path.name}: invalid trigger table: {_problems(exc)}") from exc


@lru_cache(maxsize=4)
def load_trigger_rules(path: Path = TRIGGER_FILE) -> TriggerRules:
    """The trigger table, cached, validated at first load."""
    return load_trigger_file(path)
