"""The routing rule set as data: loading, and the checks that refuse an invalid set (models in rule_models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from routing.core.checks import problems_of
from routing.core.rule_models import (
    MATCH_KEYS,
    ROUTING_ACTOR_ID,
    Match,
    Permissions,
    QueueDef,
    Rule,
    RuleSet,
    Target,
)
from shared.directory import Directory
from shared.lifecycles import Lifecycle, load_lifecycles

__all__ = ["MATCH_KEYS", "ROUTING_ACTOR_ID", "RULES_FILE", "Match", "Permissions", "QueueDef", "Rule", "RuleSet",
           "RuleSetError", "Target", "load_rule_file", "parse_rule_set"]

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "routing_rules.yaml"


class RuleSetError(ValueError):
    """An invalid rule set; the message lists every problem found."""


def parse_rule_set(raw: Any, directory: Directory, lifecycles: dict[str, Lifecycle] | None = None) -> RuleSet:
    """A checked rule set from plain data, or RuleSetError saying everything that is wrong."""
    try:
        rules = RuleSet.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'rule set'}: {e['msg']}" for e in exc.errors()]
        raise RuleSetError("Invalid rule set: " + "; ".join(problems) + ".") from None
    found = problems_of(rules, directory, lifecycles if lifecycles is not None else load_lifecycles())
    if found:
        raise RuleSetError(f"Invalid rule set v{rules.version}: " + "; ".join(found) + ".")
    return rules


def load_rule_file(directory: Directory, path: str | Path | None = None) -> RuleSet:
    """The rule set of a YAML file (default: the one shipped with the service)."""
    text = Path(path or RULES_FILE).read_text(encoding="utf-8")
    return parse_rule_set(yaml.safe_load(text), directory)
