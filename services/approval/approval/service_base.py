"""What every part of approval's service layer shares: its units of work, look-ups and outgoing messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import structlog

from approval.core import Absence, CaseApprovals, Linker, Outcome, Refused, RuleBook, RuleSet
from approval.core.content import Bounds
from approval.ports.store import ApprovalStore, StoredRules
from shared.contract.envelope import CloudEvent, derived_id, new_event, now_utc
from shared.principals import Principals, load_principals
from shared.runtime.inbound import Malformed
from shared.runtime.marks import PublishedMarks, publish_unsent
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.runtime.people import PERSON_UPSERTED, FollowedDirectory
from shared.runtime.refusals import RefusedCommand, Refusals
from shared.runtime.unit_of_work import Message, Step, UnitOfWork
from shared.settings import Topics

SOURCE = "/services/approval"
SYSTEM_ACTOR = {"id": "system:approval", "roles": ["system:approval"]}
TIMER, ABSENCE = "approval.timer_due", "approval.absence_started"  # the service's own messages (never on a topic)


@dataclass
class Lookups:
    """What a batch looks up once: the rule set in force, the absences and the link tokens' uses."""

    rules: RuleSet
    absences: dict[str, Absence] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


class ServiceBase:
    """State and helpers of the approval service; the handling mixins build on it."""

    def __init__(self, store: ApprovalStore, publisher: Publisher, topics: Topics, rules: RuleBook, linker: Linker,
                 marks: PublishedMarks, clock: Callable[[], datetime] = now_utc,
                 people: FollowedDirectory | None = None, principals: Principals | None = None,
                 bounds: Bounds = Bounds()) -> None:
        self.store, self.topics, self.rules, self.linker, self.clock = store, topics, rules, linker, clock
        self.directory, self.bounds = rules.directory, bounds
        self._principals = principals or load_principals()
        self._follow = (people or FollowedDirectory()).following(self._not_a_person)
        self.due_hint: Callable[[datetime], None] = lambda at: None  # the scheduler's: a write made a timer due at `at`
        self._publisher, self._marks = publisher, marks
        self._log = structlog.get_logger().bind(component="approval")

    def _uow(self, store: Any) -> UnitOfWork[Any]:
        return UnitOfWork(store, self._publisher, self._marks, refusals=self.store.refusals,
                          rejections_topic=self.topics.case_rejections, source=SOURCE, clock=lambda: self.clock())

    @cached_property
    def _cases(self) -> UnitOfWork[CaseApprovals]:
        return self._uow(self.store)

    @cached_property
    def _absences(self) -> UnitOfWork[Absence]:
        return self._uow(self.store.absence_book)

    @cached_property
    def _rule_sets(self) -> UnitOfWork[StoredRules]:
        return self._uow(self.store.rule_sets)

    @cached_property
    def _malformed(self) -> Refusals:
        """Refusals one at a time, for records that are not readable commands."""
        return Refusals(self.store.refusals.outbox, self.topics.case_rejections, SOURCE, self._publish_refusal,
                        lambda: self.clock())

    async def apply_absences(self, absences: list[Absence]) -> None:
        """Hand absent people's pending parts to their stand-ins (the timers part implements it)."""
        raise NotImplementedError

    async def refresh_rules(self) -> RuleSet:
        """The rule set in force, after reading the stored one (another replica may have accepted a newer one)."""
        stored = await self.store.rules()
        return self.rules.consider(stored.raw, stored.version) if stored else self.rules.current

    async def _lookups(self, absences: bool = False, links: dict[str, str] | None = None) -> Lookups:
        """The rule set in force (the stored one read once per batch, so replicas follow an upsert) and absences."""
        return Lookups(await self.refresh_rules(), await self.store.absences() if absences else {}, links or {})

    def _step(self, outcome: Outcome | Refused | None, message: Message, about: CloudEvent | None = None) -> Step[CaseApprovals]:
        """The unit of work's step for a core outcome: refused, ignored, or the new state with its entries."""
        if isinstance(outcome, Refused):
            return Step.refused(outcome.code, outcome.reason, about=about)
        if outcome is None:
            return Step("ignored")
        step = outcome.state.open_step()
        if step is not None and (at := step.next_due()) is not None:
            self.due_hint(at)
        own = message.event.type in (TIMER, ABSENCE)
        return Step("accepted", state=outcome.state, entries=self._entries(message.event.id, outcome, None if own else message.event))

    def _entries(self, message_id: str, outcome: Outcome, cause: CloudEvent | None) -> list[OutboxEntry]:
        """Approval events, then the command telling intake the step's result (with every decision of the step)."""
        case_id = outcome.state.case_id
        out = [self._event(case_id, type_, data, derived_id(message_id, i), cause) for i, (type_, data) in enumerate(outcome.events)]
        if outcome.settled:
            s = outcome.settled
            data: dict[str, Any] = {"decision": s.decision, "step": s.step, "approver": s.approver, "comment": s.comment,
                                    "actor": SYSTEM_ACTOR}
            if s.on_behalf_of:
                data["on_behalf_of"] = s.on_behalf_of
            if s.decisions:
                data["decisions"] = list(s.decisions)
            out.append(OutboxEntry.of(self.topics.case_commands, new_event(
                "case.record_approval", case_id, data, source=SOURCE, id_=derived_id(message_id, "record"),
                cause=cause, time=self.clock())))
        return out

    def _event(self, subject: str, type_: str, data: dict[str, Any], id_: str, cause: CloudEvent | None) -> OutboxEntry:
        return OutboxEntry.of(self.topics.approval_events, new_event(type_, subject, data, source=SOURCE, id_=id_,
                                                                     cause=cause, time=self.clock()))

    def _own(self, type_: str, case_id: str, message_id: str) -> Message:
        """A message of the service's own (a timer, an absence) for the unit of work; its id dedupes it per case."""
        return Message(new_event(type_, case_id, {}, source=SOURCE, id_=message_id, time=self.clock()))

    async def refuse_malformed(self, bad: Malformed) -> None:
        """A record we could not read as a command, but whose ids we could: refuse it `invalid` (or `too_large`)."""
        await self._malformed.refuse(RefusedCommand.malformed(bad), bad.code, bad.error)

    async def _publish_refusal(self, command_id: str, entries: list[OutboxEntry]) -> None:
        await publish_unsent(self._publisher, self._marks, self.store.refusals.outbox, command_id, entries)

    async def _not_a_person(self, event: CloudEvent) -> str:
        raise AssertionError(f"only {PERSON_UPSERTED} goes through the followed directory, not {event.type}")
