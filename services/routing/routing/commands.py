"""Routing's own commands (`rules.upsert`, `routing.handover`): accept once, or refuse with a record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from routing.core.handover import Handover, note, refusal
from routing.core.rules import RuleSetError, parse_rule_set
from routing.ports.store import RoutingStore
from routing.service import SOURCE, RulesInForce, assign_command
from shared.contract.envelope import Actor, CloudEvent, now_utc
from shared.directory import Directory
from shared.lifecycles import Lifecycle
from shared.runtime.inbound import Malformed, describe_validation_error
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.runtime.refusals import RefusedCommand, rejection
from shared.settings import Topics

RULES_UPSERT, HANDOVER = "rules.upsert", "routing.handover"


class RulesUpsert(BaseModel):
    """`rules.upsert` data: a whole new rule set, put in force if valid and newer."""

    model_config = ConfigDict(extra="forbid")

    actor: Actor
    rules: dict = Field(description="The rule set, same shape as rules/routing_rules.yaml.")


class RoutingCommands:
    """Handles routing.commands; every command is recorded by id so a redelivery changes nothing."""

    def __init__(self, store: RoutingStore, publisher: Publisher, topics: Topics, rules: RulesInForce,
                 directory: Directory, lcs: dict[str, Lifecycle], clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._publisher, self._topics, self._rules = store, publisher, topics, rules
        self._directory, self._lcs, self._clock = directory, lcs, clock

    async def handle(self, command: CloudEvent) -> str:
        """Apply or refuse one routing command; returns `accepted`, `rejected` or `duplicate`."""
        pending = await self._store.command_outbox(command.id)
        if pending is not None:
            await self._flush(command.id, pending)
            return "duplicate"
        if command.type == RULES_UPSERT:
            return await self._upsert(command)
        if command.type == HANDOVER:
            return await self._handover(command)
        return await self.refuse(command, "invalid", f"Unknown routing command type '{command.type}' "
                                 f"(known: {RULES_UPSERT}, {HANDOVER}).")

    async def _upsert(self, command: CloudEvent) -> str:
        try:
            data = RulesUpsert.model_validate(command.data)
        except ValidationError as exc:
            return await self.refuse(command, "invalid", describe_validation_error(exc, RULES_UPSERT))
        current = await self._store.rules()
        if current and current.get("command_id") == command.id:
            return "duplicate"  # put in force before a crash
        in_force = await self._rules.get()
        if not set(in_force.permissions.rules_upsert) & set(data.actor.roles):
            return await self.refuse(command, "forbidden", "Only holders of "
                                     f"{', '.join(in_force.permissions.rules_upsert)} may change the routing rules.")
        try:
            new = parse_rule_set(data.rules, self._directory, self._lcs)
        except RuleSetError as exc:
            return await self.refuse(command, "invalid", f"{exc} Rule set v{in_force.version} stays in force.")
        if new.version <= in_force.version:
            return await self.refuse(command, "invalid", f"Rule set v{new.version} is not newer than v{in_force.version}"
                                     f", which stays in force.")
        if not await self._store.save_rules(new.model_dump(mode="json"), in_force.version, command.id):
            raise RuntimeError("the rule set changed while upserting; retried by redelivery")
        await self._store.record_command(command.id, "accepted", [])
        return "accepted"

    async def _handover(self, command: CloudEvent) -> str:
        try:
            h = Handover.model_validate(command.data)
        except ValidationError as exc:
            return await self.refuse(command, "invalid", describe_validation_error(exc, HANDOVER))
        rules = await self._rules.get()
        problem = refusal(h, rules, self._directory, set(self._lcs))
        if problem:
            return await self.refuse(command, *problem)
        cases = await self._store.open_cases(h.from_person, h.case_types)
        entries = [OutboxEntry.of(self._topics.case_commands, assign_command(
            c.case_id, command, c.case_id, assignee=h.to_person, queue=None, comment=note(h, c))) for c in cases]
        if await self._store.record_command(command.id, f"accepted: {len(cases)} case(s)", entries):
            await self._flush(command.id, entries)
        return "accepted"

    async def refuse_malformed(self, bad: Malformed) -> None:
        """A routing command we could not read but can name: refuse it as `invalid` (or `too_large`)."""
        await self._refuse(RefusedCommand.malformed(bad), bad.code, bad.error)

    async def refuse(self, command: CloudEvent, code: str, reason: str) -> str:
        """Record exactly one rejection for the command on case.rejections."""
        await self._refuse(RefusedCommand.of(command), code, reason)
        return "rejected"

    async def _refuse(self, refused: RefusedCommand, code: str, reason: str) -> None:
        event = rejection(refused, code, reason, source=SOURCE, at=self._clock())
        entries = [OutboxEntry.of(self._topics.case_rejections, event)]
        if await self._store.record_command(refused.command_id, f"rejected: {code}", entries):
            await self._flush(refused.command_id, entries)

    async def _flush(self, command_id: str, entries: list[OutboxEntry]) -> None:
        if entries:
            await self._publisher.publish(entries)
            await self._store.mark_command_published(command_id, [e.id for e in entries])
