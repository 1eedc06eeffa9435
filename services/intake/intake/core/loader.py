"""Loads and validates intake's trigger table (which triggers each command fires)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from intake.core.trigger_rules import TriggerRules
from shared.lifecycles import LifecycleError
from shared.lifecycles.loader import problems_of

TRIGGER_FILE = Path(__file__).resolve().parent.parent / "data" / "triggers.yaml"


class TriggerRulesError(LifecycleError):
    """The trigger table is unreadable or inconsistent; the message names the file."""


def load_trigger_file(path: Path) -> TriggerRules:
    """Parse and validate a trigger table (raises TriggerRulesError naming the file)."""
    try:
        return TriggerRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise TriggerRulesError(f"{path.name}: cannot read trigger table: {exc}") from exc
    except ValidationError as exc:
        raise TriggerRulesError(f"{path.name}: invalid trigger table: {problems_of(exc)}") from exc


@lru_cache(maxsize=4)
def load_trigger_rules(path: Path = TRIGGER_FILE) -> TriggerRules:
    """The trigger table, cached, validated at first load."""
    return load_trigger_file(path)
