"""Handling `approval.commands`: read, check, apply one core operation or refuse with a record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from approval.core import Absence, LinkRefused, Refusal, RuleSetError, absence_started, decide, delegate, reassign, recall
from approval.core.tokens import signature_of
from approval.ports.store import Stored
from approval.service import SOURCE, ApprovalCore
from shared.contract.approval import APPROVAL_COMMAND_TYPES, RULES_SUBJECT
from shared.contract.envelope import CloudEvent, derived_id, new_event
from shared.runtime.inbound import describe_validation_error
from shared.runtime.outbox import OutboxEntry


class CommandHandler:
    """One call per command; a command id seen before changes nothing."""

    def __init__(self, core: ApprovalCore) -> None:
        self._core = core

    async def handle(self, command: CloudEvent) -> str:
        """`accepted`, `rejected` or `duplicate`."""
        core = self._core
        if await core.refusals.seen(command.id):
            return "duplicate"
        model = APPROVAL_COMMAND_TYPES.get(command.type)
        if not command.subject:
            await core.refuse(command, "invalid", "An approval command needs a subject (the case id).")
            return "rejected"
        if model is None:
            await core.refuse(command, "invalid", f"Unknown approval command type {command.type!r}; known: "
                              f"{', '.join(APPROVAL_COMMAND_TYPES)}.")
            return "rejected"
        try:
            data: Any = model.model_validate(command.data)
        except ValidationError as exc:
            await core.refuse(command, "invalid", describe_validation_error(exc, command.type))
            return "rejected"
        if command.type == "rules.upsert":
            return await self._rules_upsert(command, data)
        if command.type == "approval.set_out_of_office":
            return await self._out_of_office(command, data)
        return await core.apply(command.subject or "", lambda s: self._case_command(s, command, data), command)

    async def _case_command(self, stored: Stored | None, command: CloudEvent, data: Any) -> tuple[str, Any]:
        state, now, actor = (stored.state if stored else None), self._core.clock(), data.actor
        linker, directory = self._core.linker, self._core.directory
        if command.type == "approval.decide":
            if data.case_id != command.subject:
                return command.id, Refusal("invalid", "data.case_id must equal the subject (the case id).")
            if data.token is not None:
                refusal = await self._check_token(state, command, data)
                if refusal:
                    return command.id, refusal
            return command.id, decide(state, data.step, actor.id, data.decision, data.comment, now)
        if command.type == "approval.delegate":
            return command.id, delegate(state, data.step, actor.id, data.to, data.comment, directory, linker)
        if command.type == "approval.reassign":
            rules = await self._core.rules.current()
            return command.id, reassign(state, data.step, actor.id, actor.roles, data.from_person, data.to,
                                        data.comment, directory, rules.reassigners, linker)
        return command.id, recall(state, data.step, actor.id, actor.roles, data.comment, now)

    async def _check_token(self, state: Any, command: CloudEvent, data: Any) -> Refusal | None:
        checked = self._core.linker.check(data.token)
        if isinstance(checked, LinkRefused):
            return Refusal("forbidden", f"The approval link is refused: {checked.reason}")
        claim = checked
        if claim.case_id != command.subject or claim.person != data.actor.id:
            return Refusal("forbidden", "The approval link is not valid for this person and case.")
        step = state.step_of(claim.approval_id) if state else None
        if step is not None and step.status in ("approved", "rejected"):
            return Refusal("already_decided", f"This approval request was already decided ({step.status}).")
        if step is None or not step.is_open or step.step != data.step:
            return Refusal("not_found", "This approval link is for a request that is no longer open.")
        # Single use: the first command that presents the token spends it (the link page spends it before
        # sending its command, with that command's id); any other command with it is a replay.
        first = await self._core.store.spend_link(signature_of(data.token), claim.case_id, command.id,
                                                  datetime.fromtimestamp(claim.expires, UTC))
        if first != command.id:
            return Refusal("already_decided", "This approval link was already used.")
        return None

    async def _out_of_office(self, command: CloudEvent, data: Any) -> str:
        core = self._core
        problem = None
        if data.person != command.subject:
            problem = "data.person must equal the subject (the person id)."
        elif core.directory.get(data.person) is None or (data.delegate and core.directory.get(data.delegate) is None):
            problem = "The person and the delegate must be in the people directory."
        elif data.delegate == data.person:
            problem = "A person cannot stand in for themselves."
        elif data.start.tzinfo is None or data.end.tzinfo is None or data.end <= data.start:
            problem = "start and end must be timezone-aware and end after start."
        elif data.actor.id != data.person and "admin" not in data.actor.roles:
            await core.refuse(command, "forbidden", "Only the person or an admin may set their absence.")
            return "rejected"
        if problem:
            await core.refuse(command, "invalid", problem)
            return "rejected"
        absence = Absence(data.person, data.delegate, data.start, data.end)
        if not await core.store.put_absence(absence, command.id):
            return "duplicate"
        await apply_absence(core, absence)
        return "accepted"

    async def _rules_upsert(self, command: CloudEvent, data: Any) -> str:
        core = self._core
        stored = await core.store.rules()
        if stored and command.id in stored.applied:
            await _flush_rules(core, stored.outbox)
            return "duplicate"
        in_force = await core.rules.current()
        if not set(data.actor.roles) & set(in_force.rule_editors):
            await core.refuse(command, "forbidden", "Only holders of "
                              f"{', '.join(in_force.rule_editors)} may change the approval rules.")
            return "rejected"
        raw = data.rule_set
        try:
            rule_set = core.rules.validate(raw)
            if rule_set.version <= in_force.version:
                raise RuleSetError([f"version {rule_set.version} must be greater than {in_force.version}, the version in force"])
        except RuleSetError as exc:
            version = raw.get("version") if isinstance(raw, dict) and isinstance(raw.get("version"), int) else None
            refused = {"version": version, "version_in_force": in_force.version, "reasons": exc.reasons,
                       "by": data.actor.id}
            await core.refuse(command, "invalid", "Rule set refused: " + "; ".join(exc.reasons) + ".",
                              extra=[("approval.rules_refused", refused)])
            return "rejected"
        updated = {"version": rule_set.version, "previous_version": in_force.version,
                   "rule_count": len(rule_set.rules), "by": data.actor.id}
        event = new_event("approval.rules_updated", RULES_SUBJECT, updated, source=SOURCE,
                          id_=derived_id(command.id, 0), cause=command, time=core.clock())
        entries = [OutboxEntry.of(core.topics.approval_events, event)]
        if not await core.store.save_rules(raw, stored.version if stored else None, command.id, entries):
            raise RuntimeError("rule set changed concurrently; retried by redelivery")
        core.rules.accept(rule_set)
        await _flush_rules(core, entries)
        return "accepted"


async def _flush_rules(core: ApprovalCore, entries: list[OutboxEntry]) -> None:
    if entries:
        await core.publisher.publish(entries)
        await core.store.mark_rules_published([e.id for e in entries])


async def apply_absence(core: ApprovalCore, absence: Absence) -> None:
    """Hand the absent person's pending parts to their stand-in on every open step, once."""
    now = core.clock()
    if not absence.active(now):
        return
    absences = await core.store.absences()
    deputies = (await core.rules.current()).deputies
    message_id = f"absence:{absence.person}:{absence.start.isoformat()}"
    for case_id in await core.store.waiting_on(absence.person):
        async def change(stored: Stored | None) -> tuple[str, Any]:
            outcome = absence_started(stored.state, absence, now, absences, deputies, core.linker) if stored else None
            return message_id, outcome
        await core.apply(case_id, change)
    await core.store.mark_absence_applied(absence.person, absence.start)


__all__ = ["CommandHandler", "apply_absence"]
