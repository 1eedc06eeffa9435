"""Per-command working state shared by the handlers, and event assembly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from intake.core.case import Case
from intake.core.transitions import Step
from shared.contract.envelope import Actor
from shared.contract.events import EVENT_TYPES
from shared.lifecycles import Lifecycle


@dataclass
class Ctx:
    """A command being decided: `case` is the new (mutable) copy, `before` the untouched input."""

    lc: Lifecycle
    before: Case | None
    case: Case
    data: Any
    actor: Actor
    command_id: str
    command_type: str
    now: datetime
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    post: list[Callable[[], None]] = field(default_factory=list)

    def emit(self, event_type: str, **fields: Any) -> None:
        """Queue an event; common fields (ids, status, version, actor) are added at the end."""
        self.events.append((event_type, fields))

    def emit_step(self, step: Step) -> None:
        """Queue the `case.status_changed` event of a status change."""
        status = self.lc.status(step.to_status)
        assert status is not None  # transitions only target defined statuses (checked at load)
        self.emit(
            "case.status_changed",
            from_status=step.from_status,
            to=step.to_status,
            trigger="manual" if step.trigger_name is None else "automatic",
            trigger_name=step.trigger_name,
            category=status.category,
            label=status.label,
            approval_step=status.approval_step,
        )


def build_events(ctx: Ctx) -> list[tuple[str, BaseModel]]:
    """Turn queued events into contract models carrying the final status and version."""
    c = ctx.case
    common = dict(
        case_id=c.id, case_type=c.case_type, gbu=c.gbu, account_id=c.account_id,
        status=c.status, version=c.version, actor=ctx.actor,
    )
    return [(etype, EVENT_TYPES[etype].model_validate({**common, **fields})) for etype, fields in ctx.events]
