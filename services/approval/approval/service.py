"""Approval service layer: dedupe, apply a core operation, store state and messages in one write, publish."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from approval.core import CaseApprovals, Linker, Outcome, Refusal
from approval.ports.store import ApprovalStore, Stored
from approval.rulebook import RuleBook
from shared.contract.envelope import CloudEvent, derived_id, new_event, now_utc
from shared.contract.rejections import REJECTION_TYPE, CommandRejected
from shared.runtime.inbound import Malformed
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.settings import Topics

SOURCE = "/services/approval"
SYSTEM_ACTOR = {"id": "system:approval", "roles": ["system:approval"]}
MAX_ATTEMPTS = 20
Change = Callable[[Stored | None], Awaitable[tuple[str, Outcome | Refusal | None]]]


class ConcurrentWriteError(RuntimeError):
    """The approval state kept changing under us; redelivery retries."""


class ApprovalCore:
    """Shared plumbing of the approval handlers: the apply loop, refusals and publishing."""

    def __init__(self, store: ApprovalStore, publisher: Publisher, topics: Topics, rules: RuleBook, linker: Linker,
                 clock: Callable[[], datetime] = now_utc) -> None:
        self.store, self.publisher, self.topics = store, publisher, topics
        self.rules, self.linker, self.clock = rules, linker, clock
        self.directory = rules.directory

    async def apply(self, case_id: str, change: Change, cause: CloudEvent | None = None) -> str:
        """Run `change` on fresh state until its write wins; `accepted`, `duplicate`, `rejected` or `ignored`."""
        for _ in range(MAX_ATTEMPTS):
            stored = await self.store.get(case_id)
            message_id, result = await change(stored)
            if stored and message_id in stored.applied:
                await self.flush(case_id, stored.outbox)  # finish what a crash interrupted
                return "duplicate"
            if isinstance(result, Refusal):
                assert cause is not None
                await self.refuse(cause.id, result.code, result.reason, command=cause)
                return "rejected"
            if result is None:
                return "ignored"
            entries = self.entries(message_id, result, cause)
            if await self.store.save(result.state, stored.version if stored else None, message_id, entries):
                await self.flush(case_id, (stored.outbox if stored else []) + entries)
                return "accepted"
        raise ConcurrentWriteError(f"approvals of case {case_id} changed {MAX_ATTEMPTS} times")

    def entries(self, message_id: str, outcome: Outcome, cause: CloudEvent | None) -> list[OutboxEntry]:
        """Approval events, then the command telling intake the step's result."""
        now, case_id = self.clock(), outcome.state.case_id
        out = [OutboxEntry.of(self.topics.approval_events, new_event(
            type_, case_id, data, source=SOURCE, id_=derived_id(message_id, i), cause=cause, time=now))
            for i, (type_, data) in enumerate(outcome.events)]
        if outcome.settled:
            decision, step, approver, comment = outcome.settled
            data = {"decision": decision, "step": step, "approver": approver, "comment": comment, "actor": SYSTEM_ACTOR}
            out.append(OutboxEntry.of(self.topics.case_commands, new_event(
                "case.record_approval", case_id, data, source=SOURCE, id_=derived_id(message_id, "record"),
                cause=cause, time=now)))
        return out

    async def flush(self, case_id: str, entries: list[OutboxEntry]) -> None:
        """Publish then mark; a crash in between republishes the same ids."""
        if entries:
            await self.publisher.publish(entries)
            await self.store.mark_published(case_id, [e.id for e in entries])

    async def already_refused(self, command_id: str) -> bool:
        """True (after republishing anything unsent) when this command was refused before."""
        pending = await self.store.refusal_outbox(command_id)
        if pending is None:
            return False
        await self._flush_refusal(command_id, pending)
        return True

    async def refuse(self, command_id: str, code: str, reason: str, *, command: CloudEvent | None = None,
                     case_id: str | None = None, command_type: str | None = None, actor_id: str | None = None,
                     extra: list[tuple[str, dict[str, Any]]] = ()) -> None:
        """Exactly one rejection record for the command (plus `extra` events), then publish."""
        if command is not None:
            case_id, command_type = command.subject, command.type
            actor = command.data.get("actor")
            actor_id = actor.get("id") if isinstance(actor, dict) else None
        record = CommandRejected(command_id=command_id, command_type=command_type, case_id=case_id, code=code,
                                 reason=reason, actor_id=actor_id, rejected_at=self.clock())
        subject = case_id or command_id
        entries = [OutboxEntry.of(self.topics.case_rejections, new_event(
            REJECTION_TYPE, subject, record, source=SOURCE, id_=derived_id(command_id, "rejected"), cause=command))]
        entries += [OutboxEntry.of(self.topics.approval_events, new_event(
            type_, subject, data, source=SOURCE, id_=derived_id(command_id, f"refused-{i}"), cause=command))
            for i, (type_, data) in enumerate(extra)]
        if await self.store.record_refusal(command_id, entries):
            await self._flush_refusal(command_id, entries)

    async def refuse_malformed(self, bad: Malformed) -> None:
        """A record we could not read as a command, but whose ids we could: refuse it `invalid`."""
        assert bad.command_id
        await self.refuse(bad.command_id, "invalid", bad.error, case_id=bad.case_id, command_type=bad.type,
                          actor_id=bad.actor_id)

    async def _flush_refusal(self, command_id: str, entries: list[OutboxEntry]) -> None:
        if entries:
            await self.publisher.publish(entries)
            await self.store.mark_refusal_published(command_id, [e.id for e in entries])


def state_of(stored: Stored | None, case_id: str) -> CaseApprovals:
    """The stored state, or an empty one for a case not seen before."""
    return stored.state if stored else CaseApprovals(case_id=case_id)
