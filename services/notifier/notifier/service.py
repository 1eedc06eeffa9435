"""The notifier's service layer: read model, who to tell, one pending delivery per (event, recipient)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import ValidationError

from notifier.core.approval import APPROVAL_TYPES
from notifier.core.casefile import CaseFile, apply
from notifier.core.delivery import Delivery, Mail, delivery_id, message_id
from notifier.core.links import LINKED_TYPES, approval_link_for
from notifier.core.recipients import Planned, plan
from notifier.core.render import Renderer, case_link
from notifier.core.subscriptions import Subscriptions
from notifier.outcomes import skipped_entries
from notifier.ports.store import NotifierStore
from shared.contract.envelope import CloudEvent, now_utc
from shared.directory import Directory
from shared.runtime.outbox import Publisher, flush
from shared.settings import Topics

MAX_ATTEMPTS = 20


class ConcurrentWriteError(RuntimeError):
    """The case file kept changing under us; the event is retried by redelivery."""


@dataclass(frozen=True)
class Links:
    """Where deep links point and which domain Message-IDs use."""

    case_base: str
    mail_domain: str
    approval_base: str | None = None  # where approvers decide: `<approval_base>/approvals/<token>` (default case_base)


class NotifierService:
    """Handles one case or approval event; safe to call again with the same event."""

    def __init__(self, store: NotifierStore, publisher: Publisher, topics: Topics, subs: Subscriptions,
                 renderer: Renderer, directory: Directory, links: Links,
                 wake: Callable[[], None] = lambda: None, clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._publisher, self._topics = store, publisher, topics
        self._subs, self._renderer, self._directory, self._links = subs, renderer, directory, links
        self._wake, self._clock = wake, clock
        self._log = structlog.get_logger().bind(component="notifier")

    async def handle(self, event: CloudEvent) -> str:
        """Update the case file, then create the deliveries the subscriptions ask for."""
        data: dict[str, Any] = dict(event.data)
        if event.type in APPROVAL_TYPES:
            try:
                data = {**data, **APPROVAL_TYPES[event.type].model_validate(data).model_dump(exclude_none=True)}
            except ValidationError as exc:  # not ours to refuse: say so and move on
                self._log.warning("notifier.unreadable_approval_event", error=str(exc), event_id=event.id)
                return "unreadable"
            stored = await self._store.case_file(data["case_id"])
            file = stored.file if stored else CaseFile(case_id=data["case_id"], case_type=data.get("case_type"))
        elif event.type.startswith("case.") and event.subject:
            file = await self._apply(event)
        else:
            return "ignored"
        planned = plan(self._subs, event.type, data, file)
        for p in planned:
            await self._deliver(event, data, file, p)
        if planned:
            self._wake()
        return f"planned:{len(planned)}"

    async def _apply(self, event: CloudEvent) -> CaseFile:
        for _ in range(MAX_ATTEMPTS):
            stored = await self._store.case_file(event.subject or "")
            if stored and event.id in stored.applied:  # seen before: plan again from it, deliveries dedupe
                return stored.file
            # The subject (the record's key) names the case; a `case_id` in the data cannot redirect the write.
            file = apply(stored.file if stored else None, event.type, {**event.data, "case_id": event.subject})
            if await self._store.save_case_file(file, stored.rev if stored else 0, event.id):
                return file
        raise ConcurrentWriteError(f"case file {event.subject} changed {MAX_ATTEMPTS} times")

    async def _deliver(self, event: CloudEvent, data: dict[str, Any], file: CaseFile, p: Planned) -> None:
        did = delivery_id(event.id, p.recipient)
        existing = await self._store.delivery(did)
        if existing is not None:  # redelivered event: finish publishing what a crash left, never resend
            await flush(did, existing[1], self._publisher, self._store)
            return
        now = self._clock()
        delivery = Delivery(id=did, event_id=event.id, event_type=event.type, case_id=file.case_id,
                            recipient=p.recipient, role=p.role, template=p.template, created_at=now,
                            next_attempt_at=now)
        person = self._directory.get(p.recipient)
        link = reason = None
        if event.type in LINKED_TYPES:  # built from the token and our setting; an event's URL is never mailed
            link = approval_link_for(data, file.case_id, p.recipient, self._links.approval_base or self._links.case_base)
            if link is None:
                reason = (f"the {event.type} event has no well-formed approval link token for {p.recipient} "
                          f"on case {file.case_id}")
        if person is None or not person.email:
            reason = f"{p.recipient} has no e-mail address in the people directory"
        if reason is not None:
            delivery = delivery.model_copy(update={"state": "skipped", "reason": reason, "finished_at": now})
            entries = skipped_entries(self._topics, delivery, event, now)
            self._log.warning("notification.skipped", recipient=p.recipient, reason=reason, delivery_id=did)
            if await self._store.add_delivery(delivery, entries):
                await flush(did, entries, self._publisher, self._store)
            return
        delivery.mail = self._render(event, data, file, p, person, did, link)
        await self._store.add_delivery(delivery, [])

    def _render(self, event: CloudEvent, data: dict[str, Any], file: CaseFile, p: Planned, person: Any,
                did: str, approval_url: str | None) -> Mail:
        case_url = case_link(self._links.case_base, file.case_id)
        link = approval_url or case_url
        # The templates see the event's data without any URL of its own: only links we built are mailed.
        data = {k: v for k, v in data.items() if k not in ("link", "token")}
        context = {"person": person.model_dump(), "case": file.model_dump(), "data": data, "event_type": event.type,
                   "role": p.role, "link": link, "case_link": case_url}
        rendered = self._renderer.render(p.template, context)
        return Mail(to=person.email, subject=rendered.subject, text=rendered.text, html=rendered.html,
                    message_id=message_id(did, self._links.mail_domain), link=link)
