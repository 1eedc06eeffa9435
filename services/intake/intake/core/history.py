"""Case history: what an accepted command changed, field by field (before/after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from intake.core.case import Case
from intake.core.case_parts import HistoryEntry
from shared.contract.events import FieldChange

# Bookkeeping fields change on every command; recording them would only add noise.
_SKIP = {"history", "approval_history", "version", "updated_at"}


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    # Nested objects are compared per key (fields.expected_revenue); lists are compared whole.
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else k, out)
    else:
        out[prefix] = value


def _flat(case: Case | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if case is not None:
        dumped = case.model_dump(mode="json", exclude=_SKIP)
        for key, value in dumped.items():
            _flatten(value, key, out)
    return out


def diff(before: Case | None, after: Case) -> list[FieldChange]:
    """Changed fields between two versions (before None = creation: every non-empty field)."""
    old, new = _flat(before), _flat(after)
    changes = []
    for key in sorted(old.keys() | new.keys()):
        b, a = old.get(key), new.get(key)
        if b != a and not (before is None and a in (None, "", [], {})):
            changes.append(FieldChange(field=key, before=b, after=a))
    return changes


def record(before: Case | None, after: Case, *, actor_id: str, command_id: str, command_type: str, at: datetime,
           comment: str | None = None) -> list[FieldChange]:
    """Append the history entry of this command to `after`; returns the changes."""
    changes = diff(before, after)
    after.history.append(HistoryEntry(at=at, actor_id=actor_id, command_id=command_id, command_type=command_type,
                                      changes=changes, comment=comment))
    return changes
