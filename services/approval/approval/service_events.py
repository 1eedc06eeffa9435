"""Approval's case events: people followed, case facts and content kept, pending statuses open or void steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from approval.core import CaseApprovals
from approval.core.followed import content_changed, opened, status_changed
from approval.service_base import Lookups, ServiceBase
from shared.contract.envelope import CloudEvent, derived_id
from shared.contract.events import CaseOpened, CaseStatusChanged, CaseUpdated, ProductChanged
from shared.runtime.people import PERSON_UPSERTED
from shared.runtime.unit_of_work import Message, Step

EVENT_MODELS = {"case.opened": CaseOpened, "case.status_changed": CaseStatusChanged, "case.updated": CaseUpdated,
                "case.product_added": ProductChanged, "case.product_removed": ProductChanged}


class CaseEventHandling(ServiceBase):
    """Batches of `case.events` through the unit of work."""

    async def handle_event(self, event: CloudEvent) -> str:
        """One case event (tests): `accepted`, `duplicate`, `ignored`, `person` or `unreadable`."""
        return (await self.handle_events([Message(event)]))[0]

    async def handle_events(self, messages: Sequence[Message]) -> list[str]:
        """A batch of `case.events`: people upserts followed, case facts and pending statuses through one unit of work."""
        outcomes: dict[int, str] = {}
        models: dict[str, Any] = {}
        todo: list[tuple[int, Message]] = []
        for i, m in enumerate(messages):
            event = m.event
            if event.type == PERSON_UPSERTED:
                outcomes[i] = await self._follow(event)
            elif event.type not in EVENT_MODELS or not event.subject:
                outcomes[i] = "ignored"
            else:
                try:
                    models[event.id] = model = EVENT_MODELS[event.type].model_validate(event.data)
                except ValidationError as exc:  # only intake writes case.events: logged, never fatal
                    self._log.warning("approval.unreadable_case_event", event_id=event.id, error=str(exc))
                    outcomes[i] = "unreadable"
                    continue
                if not isinstance(model, CaseStatusChanged) and not self.rules.steps_by_type.get(model.case_type):
                    outcomes[i] = "ignored"  # a case type that never asks for approval: nothing to remember
                else:
                    todo.append((i, m))
        if todo:
            pending = any(getattr(models[m.event.id], "approval_step", None) for _, m in todo)
            # Only a status awaiting approval needs the stored rule set and the absences (read once for the batch).
            found = await self._lookups(absences=True) if pending else Lookups(self.rules.current)
            done = await self._cases.run([m for _, m in todo], lambda s, m: self._on_event(s, m, models[m.event.id], found))
            outcomes.update(zip((i for i, _ in todo), done, strict=True))
        return [outcomes[i] for i in range(len(messages))]

    def _on_event(self, state: CaseApprovals | None, message: Message, model: Any, found: Lookups) -> Step[CaseApprovals]:
        event = message.event
        if isinstance(model, CaseOpened):
            return self._step(opened(state, model, self.bounds), message)
        if isinstance(model, (CaseUpdated, ProductChanged)):
            return self._step(content_changed(state, model, event.type, self.bounds), message)
        outcome = status_changed(state, model, derived_id(event.id, "approval"), self.clock(), found.rules,
                                 self.directory, found.absences, self.linker)
        return self._step(outcome, message)

