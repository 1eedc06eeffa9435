"""Stored-shape intake cases (JSON-mode dicts, as the `cases` collection keeps them) for read-side tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from intake.core import Case

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def stored_case(case_id: str, case_type: str = "csr", *, minutes: int = 0, **state: Any) -> dict[str, Any]:
    """A valid case as stored, last changed `minutes` after T0; `state` overrides any attribute."""
    base: dict[str, Any] = {
        "id": case_id, "case_type": case_type, "gbu": "marine", "account_id": "ACC-1001", "subject": f"About {case_id}",
        "status": "registration", "version": 1, "created_at": T0, "updated_at": T0 + timedelta(minutes=minutes),
        "created_by": {"id": "mary", "roles": ["sales_rep"]}}
    return Case.model_validate({**base, **state}).model_dump(mode="json")


def entry(actor: str, command_type: str, minutes: int, *changes: tuple[str, Any, Any], comment: str | None = None
          ) -> dict[str, Any]:
    """A history entry as stored."""
    return {"at": (T0 + timedelta(minutes=minutes)).isoformat(), "actor_id": actor, "command_id": f"cmd-{minutes}",
            "command_type": command_type, "changes": [{"field": f, "before": b, "after": a} for f, b, a in changes],
            "comment": comment}
