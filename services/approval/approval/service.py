"""Approval's service layer: case events, commands, timers and absences in batches through the shared unit of work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import structlog
from pydantic import ValidationError

from approval.core import Absence, CaseApprovals, Linker, Outcome, Refused, RuleBook, RuleSet, absence_started, fire_timers
from approval.core.commands import Parsed, absence_of, link_claim, on_case, read_command, rule_set_of
from approval.core.followed import opened, status_changed
from approval.core.tokens import signature_of
from approval.ports.store import ApprovalStore, StoredRules
from shared.contract.approval import RULES_SUBJECT
from shared.contract.envelope import CloudEvent, derived_id, new_event, now_utc
from shared.contract.events import CaseOpened, CaseStatusChanged
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
EVENT_MODELS = {"case.opened": CaseOpened, "case.status_changed": CaseStatusChanged}
DUE_BATCH = 200
KINDS = {"approval.set_out_of_office": "absence", "rules.upsert": "rules"}  # the rest: case commands


@dataclass
class Lookups:
    """What a batch looks up once: the rule set in force, the absences and the link tokens' uses."""

    rules: RuleSet
    absences: dict[str, Absence] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


class ApprovalService:
    """The approval chains of cases; every handler is safe to call again with the same message."""

    def __init__(self, store: ApprovalStore, publisher: Publisher, topics: Topics, rules: RuleBook, linker: Linker,
                 marks: PublishedMarks, clock: Callable[[], datetime] = now_utc,
                 people: FollowedDirectory | None = None, principals: Principals | None = None) -> None:
        self.store, self.topics, self.rules, self.linker, self.clock = store, topics, rules, linker, clock
        self.directory = rules.directory
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

    # -- case events -------------------------------------------------------------------------------

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
                if isinstance(model, CaseOpened) and not self.rules.steps_by_type.get(model.case_type):
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
            return self._step(opened(state, model), message)
        outcome = status_changed(state, model, derived_id(event.id, "approval"), self.clock(), found.rules,
                                 self.directory, found.absences, self.linker)
        return self._step(outcome, message)

    # -- commands ----------------------------------------------------------------------------------

    async def handle_command(self, command: CloudEvent, principal: str) -> str:
        """One approval command (tests): `accepted`, `rejected` or `duplicate`."""
        return (await self.handle_commands([Message(command, principal)]))[0]

    async def handle_commands(self, messages: Sequence[Message]) -> list[str]:
        """A batch of approval commands: case commands, absences and rule sets, each kind through its unit of work."""
        read: dict[str, Parsed | Refused] = {}
        kinds: dict[str, list[int]] = {"case": [], "absence": [], "rules": []}
        for i, m in enumerate(messages):
            parsed = read.setdefault(m.event.id, read_command(m.event, m.principal or "", self.directory, self._principals))
            if isinstance(parsed, Parsed) and parsed.command.type == "rules.upsert" and m.key != RULES_SUBJECT:
                parsed = read[m.event.id] = Refused("invalid", f"The subject of rules.upsert must be {RULES_SUBJECT}.")
            kinds[KINDS.get(parsed.command.type, "case") if isinstance(parsed, Parsed) else "case"].append(i)
        types = {p.command.type for p in read.values() if isinstance(p, Parsed)}
        tokens = [signature_of(p.data.token) for p in read.values()
                  if isinstance(p, Parsed) and p.command.type == "approval.decide" and p.data.token]
        # The stored rule set is read only for a batch that needs it (reassigners); rules.upsert reads its own.
        found = await self._lookups() if "approval.reassign" in types else Lookups(self.rules.current)
        found.links = await self.store.links_used(tokens) if tokens else {}
        outcomes: dict[int, str] = {}
        accepted: dict[str, Any] = {}  # what an accepted absence or rule set puts in force, by command id
        for kind, uow, decide in (("case", self._cases, self._on_command), ("absence", self._absences, self._on_absence),
                                  ("rules", self._rule_sets, self._on_rules)):
            if kinds[kind]:
                done = await uow.run([messages[i] for i in kinds[kind]],
                                     lambda s, m, d=decide: d(s, m, read[m.event.id], found, accepted))
                outcomes.update(zip(kinds[kind], done, strict=True))
        await self._put_in_force([accepted[messages[i].event.id] for i in kinds["absence"] + kinds["rules"]
                                  if outcomes[i] == "accepted"])
        return [outcomes[i] for i in range(len(messages))]

    async def _on_command(self, state: CaseApprovals | None, message: Message, parsed: Parsed | Refused,
                          found: Lookups, _: dict) -> Step[CaseApprovals]:
        if isinstance(parsed, Refused):
            return Step.refused(parsed.code, parsed.reason)
        command, data = parsed.command, parsed.data
        if command.type == "approval.decide" and data.token is not None and data.case_id == command.subject:
            refusal = await self._spend(state, command, data, found)
            if refusal:
                return Step.refused(refusal.code, refusal.reason, about=command)
        return self._step(on_case(state, command.type, command.subject or "", data, self.clock(), found.rules,
                                  self.directory, self.linker), message, about=command)

    async def _spend(self, state: CaseApprovals | None, command: CloudEvent, data: Any, found: Lookups) -> Refused | None:
        """Single use: the first command that presents a link token spends it; any other is a replay.

        The link page spends it before sending its command, with that command's id (found in the batch's look-up).
        """
        claim = link_claim(state, command.subject or "", data, self.linker)
        if isinstance(claim, Refused):
            return claim
        token_id = signature_of(data.token)
        if token_id not in found.links:
            found.links[token_id] = await self.store.spend_link(token_id, claim.case_id, command.id,
                                                                datetime.fromtimestamp(claim.expires, UTC))
        return None if found.links[token_id] == command.id else Refused("already_decided", "This approval link was already used.")

    def _on_absence(self, state: Absence | None, message: Message, parsed: Parsed | Refused, found: Lookups,
                    accepted: dict) -> Step[Absence]:
        assert isinstance(parsed, Parsed)
        absence = absence_of(parsed.command.subject or "", parsed.data, self.directory)
        if isinstance(absence, Refused):
            return Step.refused(absence.code, absence.reason, about=parsed.command)
        accepted[message.event.id] = absence
        return Step("accepted", state=absence)

    def _on_rules(self, state: StoredRules | None, message: Message, parsed: Parsed | Refused, found: Lookups,
                  accepted: dict) -> Step[StoredRules]:
        assert isinstance(parsed, Parsed)
        command, data = parsed.command, parsed.data
        in_force = self.rules.consider(state.raw, state.version) if state else self.rules.current
        result = rule_set_of(data.rule_set, data.actor, in_force, self.rules.validate)
        if isinstance(result, tuple):
            refusal, refused = result
            extra = [self._event(command.subject or command.id, "approval.rules_refused", refused, derived_id(command.id, "refused-0"),
                                 command)] if refused else []
            return Step.refused(refusal.code, refusal.reason, entries=extra, about=command)
        accepted[message.event.id] = result
        updated = {"version": result.version, "previous_version": in_force.version, "rule_count": len(result.rules),
                   "by": data.actor.id}
        return Step("accepted", state=StoredRules(data.rule_set, result.version),
                    entries=[self._event(RULES_SUBJECT, "approval.rules_updated", updated, derived_id(command.id, 0), command)])

    async def _put_in_force(self, accepted: list[Any]) -> None:
        """Rule sets stored by this batch are used at once; absences stored by it move pending steps (if in force)."""
        for rule_set in (a for a in accepted if isinstance(a, RuleSet)):
            self.rules.accept(rule_set)
        absences = [a for a in accepted if isinstance(a, Absence)]
        for absence in absences:
            if not absence.active(self.clock()):
                self.due_hint(absence.start)
        await self.apply_absences(absences)

    # -- timers and absences -----------------------------------------------------------------------

    async def fire_due(self) -> int:
        """Apply absences that came into force and fire every due reminder and escalation; how many cases changed."""
        now = self.clock()
        await self.apply_absences(await self.store.absences_to_apply(now))
        due = await self.store.due(now, DUE_BATCH)
        if not due:
            return 0
        rules = await self.refresh_rules()
        messages = [self._own(TIMER, d.case_id, f"timer:{d.approval_id}:{d.at.isoformat()}") for d in due]
        outcomes = await self._cases.run(messages, lambda s, m: self._step(
            fire_timers(s, now, self.directory, rules.escalation_chain, self.linker) if s else None, m))
        changed = outcomes.count("accepted")
        if changed:
            self._log.info("approval.timers_fired", cases=changed)
        return changed

    async def apply_absences(self, absences: list[Absence]) -> None:
        """Hand each absent person's pending parts to their stand-in on every open step, once (one unit of work)."""
        now = self.clock()
        active = [a for a in absences if a.active(now)]
        if not active:
            return
        found = await self._lookups(absences=True)
        messages, of = [], {}
        for absence in active:
            for case_id in await self.store.waiting_on(absence.person):
                # One id per absence and case: the events it derives are distinct for every case.
                message = self._own(ABSENCE, case_id, f"absence:{absence.person}:{absence.start.isoformat()}:{case_id}")
                messages.append(message)
                of[message.event.id] = absence
        if messages:
            await self._cases.run(messages, lambda s, m: self._step(absence_started(
                s, of[m.event.id], now, found.absences, found.rules.deputies, self.linker) if s else None, m))
        for absence in active:
            await self.store.mark_absence_applied(absence.person, absence.start)

    async def next_due(self) -> datetime | None:
        """The earliest timer of any open step."""
        return await self.store.next_due()

    # -- shared steps ------------------------------------------------------------------------------

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
        """Approval events, then the command telling intake the step's result."""
        case_id = outcome.state.case_id
        out = [self._event(case_id, type_, data, derived_id(message_id, i), cause) for i, (type_, data) in enumerate(outcome.events)]
        if outcome.settled:
            decision, step, approver, comment = outcome.settled
            data = {"decision": decision, "step": step, "approver": approver, "comment": comment, "actor": SYSTEM_ACTOR}
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
