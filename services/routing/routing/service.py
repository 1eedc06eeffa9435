"""Routing's service layer for case events: batches of events through the shared unit of work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

import structlog

from routing.adapters.outbound.cached import Caches, CountedViews
from routing.core.commands import SOURCE, assign_command, team_command
from routing.core.resolve import Decision, reroute_trigger, resolve
from routing.core.rules import RuleSet
from routing.core.view import CAUSE_SET, CaseView, already_applied, apply_event, parse_case_event
from routing.ports.store import RoutingStore
from routing.timers import CaseTimers
from shared.contract.envelope import CloudEvent, now_utc
from shared.contract.events import AccountUpserted
from shared.directory import Directory
from shared.lifecycles import Lifecycle
from shared.runtime.consumer import Handler
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.runtime.people import PERSON_UPSERTED
from shared.runtime.unit_of_work import Message, Step, UnitOfWork
from shared.settings import Topics

ACCOUNT_UPSERTED = "account.upserted"


class RoutingService:
    """Follows case.events: keeps the case views and routes cases by the rules in force."""

    def __init__(self, store: RoutingStore, publisher: Publisher, topics: Topics, caches: Caches,
                 directory: Directory, lcs: dict[str, Lifecycle], marks: PublishedMarks,
                 people: Callable[[Handler], Handler] | None = None, clock: Callable[[], datetime] = now_utc,
                 timers: CaseTimers | None = None) -> None:
        self._store, self._publisher, self._topics, self._caches = store, publisher, topics, caches
        self._directory, self._lcs, self._marks, self._clock = directory, lcs, marks, clock
        self._person = (people or (lambda handle: handle))(self._unexpected)  # person.upserted: the directory's
        self.timers = timers  # each open case's time-frame timer, kept in its view
        if timers is not None:
            timers.bind(lambda: self._uow)

    @cached_property
    def _uow(self) -> UnitOfWork[CaseView]:
        return UnitOfWork(CountedViews(self._store.views, self._caches.load), self._publisher, self._marks,
                          source=SOURCE, clock=self._clock)

    async def handle(self, event: CloudEvent) -> str:
        """Apply one case event; returns `routed`, `applied`, `account`, `person`, `duplicate` or `ignored`."""
        return (await self.handle_many([Message(event)]))[0]

    async def handle_many(self, messages: Sequence[Message]) -> list[str]:
        """A batch: account upserts in one write, people to the directory, case events through one unit of work."""
        await self._caches.ready()
        outcomes: dict[int, str] = {}
        accounts: dict[str, dict[str, Any]] = {}
        cases: list[tuple[int, Message]] = []
        for i, m in enumerate(messages):
            event = m.event
            if event.type == ACCOUNT_UPSERTED:
                entry = AccountUpserted.model_validate(event.data).model_dump(mode="json")
                accounts[entry["account_id"]] = {**entry, "event_id": event.id}
                outcomes[i] = "account"
            elif event.type == PERSON_UPSERTED:
                outcomes[i] = await self._person(event)
            elif event.type.startswith("case.") and event.subject and "version" in event.data:
                cases.append((i, m))
            else:
                outcomes[i] = "ignored"
        await self._caches.owners.upsert(accounts)  # first: a case of the same batch is routed to the new owner
        if cases:
            rules = await self._caches.rules.get()
            done = await self._uow.run([m for _, m in cases], lambda view, m: self._decide(view, m, rules))
            outcomes.update(zip((i for i, _ in cases), done, strict=True))
            if self.timers is not None:
                self.timers.written()
        return [outcomes[i] for i in range(len(messages))]

    async def _unexpected(self, event: CloudEvent) -> str:
        return "ignored"  # only person.upserted is handed to the directory's handler

    def _decide(self, view: CaseView | None, message: Message, rules: RuleSet) -> Step[CaseView]:
        """One event on the view as the batch has made it so far: the new view, and the commands it causes."""
        event = message.event
        data = parse_case_event(event.type, event.data)
        if already_applied(view, event.id, data.version):
            return Step("duplicate")
        new_view, trigger = apply_event(view, data, event.id, event.time, self._lcs)
        if self.timers is not None:
            new_view = self.timers.timed(new_view)
        decision = self._route(new_view, trigger, rules) if trigger else None
        entries = self._entries(new_view, event, decision)
        note = self._record(decision, event, entries) if decision else None
        if decision:
            structlog.get_logger().info("routing.decided", case_id=new_view.case_id, rule=decision.rule_id,
                                        assignee=decision.assignee, queue=decision.queue, why=decision.why)
        return Step("routed" if entries else "applied", state=new_view, entries=entries, note=note)

    def _route(self, view: CaseView, trigger: str, rules: RuleSet) -> Decision | None:
        at = reroute_trigger(rules, view) if trigger == CAUSE_SET else trigger
        if at is None or not rules.candidates(view.case_type, at):
            return None
        owner = self._caches.owners(view.account_id) or view.account_owner
        decision = resolve(rules, view, at, self._directory, self._caches.load, owner)
        if decision and trigger == CAUSE_SET:
            decision.why = f"cause set while waiting in queue {view.queue}; {decision.why}"
        return decision

    def _entries(self, view: CaseView, event: CloudEvent, decision: Decision | None) -> list[OutboxEntry]:
        if decision is None or (decision.assignee is None and decision.queue is None):
            return []
        out: list[OutboxEntry] = []
        if (decision.assignee, decision.queue or view.queue) != (view.assignee, view.queue):
            queue = decision.queue if decision.queue != view.queue else None
            cmd = assign_command(view.case_id, event, "assign", assignee=decision.assignee, queue=queue,
                                 comment=decision.comment)
            out.append(OutboxEntry.of(self._topics.case_commands, cmd))
        if decision.team_role and decision.assignee and (decision.assignee, decision.team_role) not in view.team:
            cmd = team_command(view.case_id, event, decision.assignee, decision.team_role)
            out.append(OutboxEntry.of(self._topics.case_commands, cmd))
        return out

    def _record(self, decision: Decision, event: CloudEvent, entries: list[OutboxEntry]) -> dict[str, Any]:
        return {**decision.model_dump(), "comment": decision.comment, "event_id": event.id, "event_type": event.type,
                "commands": [e.id for e in entries], "at": self._clock()}
