"""Routing's own commands (`rules.upsert`, `routing.handover`) in batches: accept once, or refuse once.

A rules.upsert folds onto the one rule-set aggregate; a hand-over is an aggregate of its own, keyed by
its command id (it changes no view: intake's case.assigned events do, later). Both run through the
shared unit of work; refusals go to its refusal book.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from pydantic import ValidationError

from routing.adapters.outbound.cached import Caches
from routing.core.commands import HANDOVER, RULES_UPSERT, SOURCE, RulesDoc, RulesUpsert, assign_command
from routing.core.handover import Handover, note, refusal
from routing.core.rules import RuleSetError, parse_rule_set
from routing.core.view import CaseView
from routing.ports.store import RULES_ID, RoutingStore
from shared.contract.envelope import CloudEvent, now_utc
from shared.directory import Directory
from shared.identity import Forbidden, require_roles, verified_actor, with_actor
from shared.lifecycles import Lifecycle
from shared.principals import Principals, load_principals
from shared.runtime.inbound import Malformed, describe_validation_error
from shared.runtime.marks import PublishedMarks, publish_unsent
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.runtime.refusals import RefusedCommand, Refusals
from shared.runtime.unit_of_work import Message, Step, UnitOfWork
from shared.settings import Topics

KIND = "routing_commands"  # the ingress kind: which principals may speak for whom on it


@dataclass(frozen=True)
class Keyed(Message):
    """A command with the aggregate it concerns (not its subject: the rule set, or the hand-over itself)."""

    aggregate: str = ""

    @property
    def key(self) -> str:
        return self.aggregate


class RoutingCommands:
    """Handles routing.commands; every command is recorded by id so a redelivery changes nothing."""

    def __init__(self, store: RoutingStore, publisher: Publisher, topics: Topics, caches: Caches,
                 directory: Directory, lcs: dict[str, Lifecycle], marks: PublishedMarks,
                 principals: Principals | None = None, clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._publisher, self._topics, self._caches = store, publisher, topics, caches
        self._directory, self._lcs, self._marks, self._clock = directory, lcs, marks, clock
        self._principals = principals or load_principals()

    def _uow(self, store) -> UnitOfWork:  # type: ignore[no-untyped-def]
        return UnitOfWork(store, self._publisher, self._marks, refusals=self._store.refusals,
                          rejections_topic=self._topics.case_rejections, source=SOURCE, clock=self._clock)

    @cached_property
    def _refusals(self) -> Refusals:
        """Refusals one at a time, for records that are not readable commands."""
        return Refusals(self._store.refusals.outbox, self._topics.case_rejections, SOURCE, self._flush, self._clock)

    async def handle(self, command: CloudEvent, principal: str) -> str:
        """Apply or refuse one routing command sent by `principal`; `accepted`, `rejected` or `duplicate`."""
        return (await self.handle_many([Message(command, principal)]))[0]

    async def handle_many(self, messages: Sequence[Message]) -> list[str]:
        """Rule-set upserts through one unit of work, the other commands through another."""
        await self._caches.ready()
        upserts = [(i, Keyed(m.event, m.principal, RULES_ID)) for i, m in enumerate(messages)
                   if m.event.type == RULES_UPSERT]
        others = [(i, Keyed(m.event, m.principal, m.event.id)) for i, m in enumerate(messages)
                  if m.event.type != RULES_UPSERT]
        outcomes: dict[int, str] = {}
        if upserts:
            done = await self._uow(self._store.rule_sets).run([m for _, m in upserts], self._upsert)
            outcomes.update(zip((i for i, _ in upserts), done, strict=True))
            if "accepted" in done:
                await self._caches.rules.refresh()  # the new set routes the very next event
        if others:
            people = {m.event.data.get("from_person") for _, m in others if m.event.type == HANDOVER}
            cases = await self._store.open_cases_of(sorted(p for p in people if isinstance(p, str)))
            rules = await self._caches.rules.get()
            done = await self._uow(self._store.handovers).run(
                [m for _, m in others], lambda state, m: self._other(m, cases, rules))
            outcomes.update(zip((i for i, _ in others), done, strict=True))
        return [outcomes[i] for i in range(len(messages))]

    def _verified(self, message: Message) -> CloudEvent | Forbidden:
        """The command with the actor its principal may speak for (roles from the directory), or Forbidden."""
        data = message.event.data if isinstance(message.event.data, dict) else {}
        try:
            actor = verified_actor(message.principal or "", data.get("actor"), self._directory, self._principals,
                                   kind=KIND)
            require_roles(message.event.type, actor, self._principals)
        except Forbidden as no:
            return no
        return message.event.model_copy(update={"data": with_actor(data, actor)})

    def _upsert(self, state: RulesDoc | None, message: Message) -> Step[RulesDoc]:
        """A rules.upsert on the set in force as the batch left it: the newer valid set, or a refusal."""
        command = self._verified(message)
        if isinstance(command, Forbidden):
            return Step.refused("forbidden", str(command))
        try:
            data = RulesUpsert.model_validate(command.data)
        except ValidationError as exc:
            return Step.refused("invalid", describe_validation_error(exc, RULES_UPSERT), about=command)
        if state is None:
            raise RuntimeError("no routing rule set in force")
        in_force = self._caches.rules.parsed(state)
        if not set(in_force.permissions.rules_upsert) & set(data.actor.roles):
            return Step.refused("forbidden", "Only holders of "
                                f"{', '.join(in_force.permissions.rules_upsert)} may change the routing rules.", about=command)
        try:
            new = parse_rule_set(data.rules, self._directory, self._lcs)
        except RuleSetError as exc:
            return Step.refused("invalid", f"{exc} Rule set v{in_force.version} stays in force.", about=command)
        if new.version <= in_force.version:
            return Step.refused("invalid", f"Rule set v{new.version} is not newer than v{in_force.version}"
                                f", which stays in force.", about=command)
        return Step("accepted", state=RulesDoc(version=new.version, raw=new.model_dump(mode="json"), command_id=command.id))

    def _other(self, message: Message, cases: dict[str, list[CaseView]], rules) -> Step[str]:  # type: ignore[no-untyped-def]
        """A hand-over (one case.assign per open case of the person), or a refusal of an unknown type."""
        command = self._verified(message)
        if isinstance(command, Forbidden):
            return Step.refused("forbidden", str(command))
        if command.type != HANDOVER:
            return Step.refused("invalid", f"Unknown routing command type '{command.type}' "
                                f"(known: {RULES_UPSERT}, {HANDOVER}).", about=command)
        try:
            h = Handover.model_validate(command.data)
        except ValidationError as exc:
            return Step.refused("invalid", describe_validation_error(exc, HANDOVER), about=command)
        problem = refusal(h, rules, self._directory, set(self._lcs))
        if problem:
            return Step.refused(*problem, about=command)
        moved = [c for c in cases.get(h.from_person, []) if not h.case_types or c.case_type in h.case_types]
        entries = [OutboxEntry.of(self._topics.case_commands, assign_command(
            c.case_id, command, c.case_id, assignee=h.to_person, queue=None, comment=note(h, c))) for c in moved]
        return Step("accepted", state=f"accepted: {len(moved)} case(s)", entries=entries)

    async def refuse_malformed(self, bad: Malformed) -> None:
        """A routing command we could not read but can name: refuse it as `invalid` (or `too_large`)."""
        await self._refusals.refuse(RefusedCommand.malformed(bad), bad.code, bad.error)

    async def _flush(self, command_id: str, entries: list[OutboxEntry]) -> None:
        await publish_unsent(self._publisher, self._marks, self._store.refusals.outbox, command_id, entries)
