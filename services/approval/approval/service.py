"""Approval service layer: dedupe, apply a core operation, store state and messages in one write, publish."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from approval.core import CaseApprovals, Linker, Outcome, Refusal
from approval.ports.store import ApprovalStore, Stored
from approval.rulebook import RuleBook
from shared.contract.envelope import CloudEvent, derived_id, new_event, now_utc
from shared.runtime.inbound import Malformed
from shared.runtime.outbox import OutboxEntry, Publisher, flush
from shared.runtime.refusals import RefusedCommand, Refusals
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

    @cached_property
    def refusals(self) -> Refusals:
        """Refused commands, each recorded once in the store's `refusals` before it is published."""
        store = self.store.refusals
        return Refusals(store, self.topics.case_rejections, SOURCE,
                        lambda command_id, entries: flush(command_id, entries, self.publisher, store), self.clock)

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
                await self.refuse(cause, result.code, result.reason)
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
        """Publish then mark the case's entries; a crash in between republishes the same ids."""
        await flush(case_id, entries, self.publisher, self.store)  # type: ignore[arg-type]  # marks like an OutboxStore

    async def refuse(self, command: CloudEvent, code: str, reason: str,
                     extra: Sequence[tuple[str, dict[str, Any]]] = ()) -> None:
        """Exactly one rejection record for the command (plus `extra` approval events), then publish."""
        subject = command.subject or command.id
        entries = [OutboxEntry.of(self.topics.approval_events, new_event(
            type_, subject, data, source=SOURCE, id_=derived_id(command.id, f"refused-{i}"), cause=command))
            for i, (type_, data) in enumerate(extra)]
        await self.refusals.refuse(RefusedCommand.of(command), code, reason, entries)

    async def refuse_malformed(self, bad: Malformed) -> None:
        """A record we could not read as a command, but whose ids we could: refuse it `invalid` (or `too_large`)."""
        await self.refusals.refuse(RefusedCommand.malformed(bad), bad.code, bad.error)


def state_of(stored: Stored | None, case_id: str) -> CaseApprovals:
    """The stored state, or an empty one for a case not seen before."""
    return stored.state if stored else CaseApprovals(case_id=case_id)
