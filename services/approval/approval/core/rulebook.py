"""The rule set in force: the newer of the packaged file and the last accepted `rules.upsert` (no I/O)."""

from __future__ import annotations

from typing import Any

import structlog

from approval.core.rules import RuleSet, RuleSetError
from approval.core.validate import validate_rule_set
from shared.directory import Directory


class RuleBook:
    """Validated rule sets; `consider` is given the stored set (read once per batch) so every replica follows an upsert."""

    def __init__(self, file_raw: dict[str, Any], steps_by_type: dict[str, set[str]], directory: Directory) -> None:
        self.steps_by_type, self.directory = steps_by_type, directory
        # A broken packaged file must stop the service at start-up, loudly, not at the first case.
        self._set: RuleSet = self.validate(file_raw)
        self._broken: int | None = None

    def validate(self, raw: Any) -> RuleSet:
        """The rule set, or RuleSetError with every reason."""
        return validate_rule_set(raw, self.steps_by_type, self.directory)

    @property
    def current(self) -> RuleSet:
        """The rule set in force as last seen."""
        return self._set

    def consider(self, raw: dict[str, Any] | None, version: int | None) -> RuleSet:
        """Put a stored set in force if it is newer (and still valid); the set in force."""
        if raw is not None and version is not None and version > self._set.version and version != self._broken:
            try:
                self._set = self.validate(raw)
            except RuleSetError as exc:  # valid when accepted, but the lifecycles or directory changed since
                self._broken = version
                structlog.get_logger().error("approval.stored_rules_invalid", version=version, reasons=exc.reasons)
        return self._set

    def accept(self, rule_set: RuleSet) -> None:
        """Use a set just stored."""
        if rule_set.version > self._set.version:
            self._set = rule_set
