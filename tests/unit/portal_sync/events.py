"""Case events as intake publishes them, for portal-sync tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contract.envelope import CloudEvent

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
CATEGORY = {"closed": "closed", "waiting_for_feedback": "pending", "waiting_for_technical_feedback": "pending",
            "awaiting_internal": "pending", "awaiting_approval": "pending"}


def case_event(type_: str, case_id: str, case_type: str, status: str, version: int, *, account_id: str = "ACC-1",
               id_: str | None = None, **data: Any) -> CloudEvent:
    """One case event with the fields every case event carries."""
    body = {"case_id": case_id, "case_type": case_type, "gbu": "marine", "account_id": account_id,
            "status": status, "version": version, "actor": {"id": "seller.ingrid", "roles": ["seller"]}, **data}
    return CloudEvent(id=id_ or str(uuid.uuid4()), source="/services/intake", type=type_, subject=case_id,
                      time=T0 + timedelta(minutes=version), data=body)


def opened(case_id: str, case_type: str, status: str = "new", snapshot: dict | None = None, **kw: Any) -> CloudEvent:
    """`case.opened` at version 1; `snapshot` adds fields to the case snapshot (e.g. `subject`, `quote`)."""
    return case_event("case.opened", case_id, case_type, status, 1, case={"id": case_id, **(snapshot or {})}, **kw)


def message(case_id: str, case_type: str, status: str, version: int, text: str, customer: bool = True) -> CloudEvent:
    """`case.message_received` as intake publishes it for `case.add_customer_message` (caused by the command)."""
    event = case_event("case.message_received", case_id, case_type, status, version, message=text,
                       from_customer=customer)
    who = {"id": "cust.ola", "roles": ["customer"]} if customer else {"id": "seller.ingrid", "roles": ["seller"]}
    return event.model_copy(update={"causationid": f"cmd-{case_id}-{version}", "data": {**event.data, "actor": who}})


def moved(case_id: str, case_type: str, before: str, after: str, version: int, **kw: Any) -> CloudEvent:
    """`case.status_changed`."""
    return case_event("case.status_changed", case_id, case_type, after, version, **{
        "from": before, "to": after, "trigger": "manual", "category": CATEGORY.get(after, "open"),
        "label": after, **kw})


def closing(case_id: str, case_type: str, before: str, version: int, reason: str = "completed",
            duplicate_of: str | None = None) -> list[CloudEvent]:
    """The two events of a `case.close`: status_changed then closed, same version."""
    return [moved(case_id, case_type, before, "closed", version),
            case_event("case.closed", case_id, case_type, "closed", version, reason=reason, duplicate_of=duplicate_of)]
