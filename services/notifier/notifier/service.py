"""The notifier's service layer: case files and planned deliveries in batches through the shared unit of work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import structlog
from pydantic import ValidationError

from notifier.core.approval import APPROVAL_TYPES
from notifier.core.casefile import CaseFile, apply, moved_only, read_case_event
from notifier.core.delivery import Delivery, Mail, delivery_id, message_id
from notifier.core.links import LINKED_TYPES, approval_link_for
from notifier.core.outcomes import skipped_entries
from notifier.core.recipients import Planned, plan
from notifier.core.render import Renderer, case_link
from notifier.core.subscriptions import Subscriptions
from notifier.core.timeframe import TIMEFRAME_TYPES
from notifier.ports.store import NotifierStore
from shared.contract.envelope import CloudEvent, now_utc
from shared.contract.events import CaseEvent
from shared.directory import Directory
from shared.runtime import tracing
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.runtime.unit_of_work import Message, Step, UnitOfWork
from shared.settings import Topics


SIDE_TYPES = {**APPROVAL_TYPES, **TIMEFRAME_TYPES}
"""Events of other services about a case (approval, routing's time-frames): read leniently, they change no case file."""


@dataclass(frozen=True)
class Links:
    """Where deep links point and which domain Message-IDs use."""

    case_base: str
    mail_domain: str
    approval_base: str | None = None  # where approvers decide: `<approval_base>/approvals/<token>` (default case_base)


class NotifierService:
    """Handles case and approval events in batches; safe to call again with the same events."""

    def __init__(self, store: NotifierStore, publisher: Publisher, topics: Topics, subs: Subscriptions,
                 renderer: Renderer, directory: Directory, links: Links, marks: PublishedMarks,
                 lease_until: Callable[[], datetime] | None = None, clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._publisher, self._topics, self._marks = store, publisher, topics, marks
        self._subs, self._renderer, self._directory, self._links = subs, renderer, directory, links
        # A delivery to send is inserted leased to this process's dispatcher (the store hands it over): nobody
        # claims it meanwhile, and after a crash the sweep does once the lease ends. Without one: due at once.
        self._lease_until, self._clock = lease_until or clock, clock
        self._log = structlog.get_logger().bind(component="notifier")

    @cached_property
    def _uow(self) -> UnitOfWork[CaseFile]:
        return UnitOfWork(self._store, self._publisher, self._marks, clock=self._clock)

    async def handle(self, event: CloudEvent) -> str:
        """One event (the careful path, and tests): a batch of one."""
        return (await self.handle_many([Message(event)]))[0]

    async def handle_many(self, messages: Sequence[Message]) -> list[str]:
        """Update the case files, then plan the deliveries the subscriptions ask for, for a whole batch."""
        outcomes: dict[int, str] = {}
        todo: list[tuple[int, Message]] = []
        parsed: dict[str, CaseEvent] = {}  # case events as their contract models, by event id
        for i, message in enumerate(messages):
            read = self._read(message.event, parsed)
            if isinstance(read, str):
                outcomes[i] = read
            else:
                todo.append((i, Message(read)))
        if todo:
            done = await self._uow.run([m for _, m in todo], lambda file, m: self._decide(file, m, parsed))
            outcomes.update(zip((i for i, _ in todo), done, strict=True))
        return [outcomes[i] for i in range(len(messages))]

    def _read(self, event: CloudEvent, parsed: dict[str, CaseEvent]) -> CloudEvent | str:
        """The event keyed (subject) by the case whose file it concerns, or the outcome of skipping it."""
        if event.type in SIDE_TYPES:
            try:
                model = SIDE_TYPES[event.type].model_validate(event.data)
            except ValidationError as exc:  # not ours to refuse: say so and move on
                self._log.warning("notifier.unreadable_approval_event", error=str(exc), event_id=event.id,
                                  type=event.type)
                return "unreadable"
            data = {**event.data, **model.model_dump(exclude_none=True)}
            return event.model_copy(update={"subject": model.case_id, "data": data})
        if event.type.startswith("case.") and event.subject:
            # The subject (the record's key) names the case; a `case_id` in the data cannot redirect the write.
            data = {**event.data, "case_id": event.subject}
            try:
                parsed[event.id] = read_case_event(event.type, data)
            except ValidationError as exc:  # intake's, not ours to refuse: say so and move on
                self._log.warning("notifier.unreadable_case_event", error=str(exc), event_id=event.id, type=event.type)
                return "unreadable"
            return event.model_copy(update={"data": data})
        return "ignored"

    def _decide(self, file: CaseFile | None, message: Message, parsed: dict[str, CaseEvent]) -> Step[CaseFile]:
        """One event on the case file as the batch has made it so far: the new file and the deliveries it plans."""
        event, data = message.event, message.event.data
        if event.type in SIDE_TYPES:  # approval and time-frame events change no file, but are applied once too
            new, quiet = file or CaseFile(case_id=message.key, case_type=data.get("case_type")), True
        else:
            case_event = parsed[event.id]
            new = apply(file, case_event)
            # Only status/version moved: nothing that decides who is told by later events. Such an event that
            # plans nothing is not written (store writes are the bottleneck), so its id is not remembered.
            quiet = file is not None and moved_only(file, new)
            if file is not None and quiet and case_event.version < file.version:
                # A later command's event was written since: this one is a redelivery that planned nothing
                # (had it planned, it was written and is a duplicate) or arrived late. Planned now, it could
                # tell a team member or assignee who came later; the contract lets consumers drop stale events.
                return Step("planned:0")
        planned = plan(self._subs, event.type, data, new)
        if not planned and quiet:
            # Nothing to write, nothing to remember: decided again it plans nothing again, since the file
            # changes only by written events (of a later command: dropped above) and plan reads the rest from data.
            return Step("planned:0")
        deliveries: list[Delivery] = []
        entries: list[OutboxEntry] = []
        for p in planned:
            delivery = self._delivery(event, data, new, p)
            deliveries.append(delivery)
            if delivery.state == "skipped":
                entries.extend(skipped_entries(self._topics, delivery, event, delivery.created_at))
        return Step(f"planned:{len(planned)}", state=new, entries=entries, note=deliveries)

    def _delivery(self, event: CloudEvent, data: dict[str, Any], file: CaseFile, p: Planned) -> Delivery:
        """The delivery of `event` to one recipient: the rendered mail, or skipped with the reason."""
        did, now = delivery_id(event.id, p.recipient), self._clock()
        delivery = Delivery(id=did, event_id=event.id, event_type=event.type, case_id=file.case_id,
                            recipient=p.recipient, role=p.role, template=p.template, created_at=now,
                            next_attempt_at=now, traceparent=tracing.current_traceparent())
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
            self._log.warning("notification.skipped", recipient=p.recipient, reason=reason, delivery_id=did)
            return delivery.model_copy(update={"state": "skipped", "reason": reason, "finished_at": now})
        return delivery.model_copy(update={"mail": self._render(event, data, file, p, person, did, link),
                                           "next_attempt_at": self._lease_until()})

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
