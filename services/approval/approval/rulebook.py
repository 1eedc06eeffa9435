"""The rule set in force: the newer of the packaged file and the last accepted `rules.upsert`."""

from __future__ import annotations

from typing import Any

import structlog

from approval.core import RuleSet, RuleSetError, validate_rule_set
from approval.ports.store import ApprovalStore
from shared.directory import Directory


class RuleBook:
    """Validated rule sets; re-reads the store's version so every replica follows an upsert."""

    def __init__(self, store: ApprovalStore, file_raw: dict[str, Any], steps_by_type: dict[str, set[str]],
                 directory: Directory) -> None:
        self._store, self.steps_by_type, self.directory = store, steps_by_type, directory
        # A broken packaged file must stop the service at start-up, loudly, not at the first case.
        self._set: RuleSet = self.validate(file_raw)
        self._broken: int | None = None

    def validate(self, raw: Any) -> RuleSet:
        """The rule set, or RuleSetError with every reason."""
        return validate_rule_set(raw, self.steps_by_type, self.directory)

    @property
    def cached(self) -> RuleSet:
        """The last rule set seen (no I/O)."""
        return self._set

    async def current(self) -> RuleSet:
        """The rule set in force now."""
        stored = await self._store.rules()
        if stored is not None and stored.version > self._set.version and stored.version != self._broken:
            try:
                self._set = self.validate(stored.raw)
            except RuleSetError as exc:  # valid when accepted, but the lifecycles or directory changed since
                self._broken = stored.version
                structlog.get_logger().error("approval.stored_rules_invalid", version=stored.version, reasons=exc.reasons)
        return self._set

    def accept(self, rule_set: RuleSet) -> None:
        """Use a set just stored."""
        if rule_set.version > self._set.version:
            self._set = rule_set
