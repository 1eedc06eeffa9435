"""Intake's service layer: dedupe, decide, store state and events in one write, publish."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from intake.core import Accepted, Account, Case, Refused, decide
from intake.ports.store import CaseStore
from shared.contract.commands import COMMAND_TYPES
from shared.contract.events import AccountUpserted
from shared.contract.envelope import CloudEvent, derived_id, new_event, now_utc
from shared.contract.rejections import REJECTION_TYPE, CommandRejected
from shared.runtime.inbound import Malformed, describe_validation_error
from shared.runtime.marks import BulkMarkable, PublishedMarks
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.settings import Topics

SOURCE = "/services/intake"
ACCOUNT_UPSERT = "account.upsert"
MAX_ATTEMPTS = 20


class ConcurrentWriteError(RuntimeError):
    """The case kept changing under us; the command is retried by redelivery."""


class IntakeService:
    """The only writer of cases. One call per command; safe to call again with the same command."""

    def __init__(self, store: CaseStore, publisher: Publisher, topics: Topics, marks: PublishedMarks,
                 clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._publisher, self._topics, self._clock = store, publisher, topics, clock
        self._marks = marks

    async def handle(self, command: CloudEvent) -> str:
        """Apply or refuse `command`; returns `accepted`, `rejected` or `duplicate`."""
        if command.type == ACCOUNT_UPSERT:
            return await self._upsert_account(command)
        pending_refusal = await self._store.refusal_outbox(command.id)
        if pending_refusal is not None:  # refused before: the first result stands
            await self._flush(self._store.refusal_outbox_store, command.id, pending_refusal)
            return "duplicate"
        for _ in range(MAX_ATTEMPTS):
            stored = await self._store.get(command.subject or "", command.id)
            if stored and stored.seen:
                await self._flush(self._store.case_outbox, stored.case.id, stored.outbox)  # finish a crash's work
                return "duplicate"
            outcome = decide(stored.case if stored else None, command, now=self._clock(),
                             account=await self._account_for(command))
            if isinstance(outcome, Refused):
                await self.refuse(command.id, outcome.code, outcome.reason, command=command)
                return "rejected"
            entries = self._entries(command, outcome)
            if stored is None:
                written = await self._store.create(outcome.case, command.id, entries)
            else:
                written = await self._store.update(outcome.case, stored.version, command.id, entries)
            if written:
                await self._flush(self._store.case_outbox, outcome.case.id, (stored.outbox if stored else []) + entries)
                return "accepted"
        raise ConcurrentWriteError(f"case {command.subject} changed {MAX_ATTEMPTS} times while applying {command.id}")

    async def refuse_malformed(self, bad: Malformed) -> None:
        """A record we could not read as a command, but whose ids we could: refuse it with `invalid`."""
        assert bad.command_id
        await self.refuse(bad.command_id, "invalid", bad.error, case_id=bad.case_id,
                          command_type=bad.type, actor_id=bad.actor_id)

    async def refuse(self, command_id: str, code: str, reason: str, *, command: CloudEvent | None = None,
                     case_id: str | None = None, command_type: str | None = None,
                     actor_id: str | None = None) -> None:
        """Record exactly one rejection for the command, then publish it."""
        if command is not None:
            case_id, command_type = command.subject, command.type
            actor = command.data.get("actor")
            actor_id = actor.get("id") if isinstance(actor, dict) else None
        record = CommandRejected(command_id=command_id, command_type=command_type, case_id=case_id, code=code,
                                 reason=reason, actor_id=actor_id, rejected_at=self._clock())
        event = new_event(REJECTION_TYPE, case_id or command_id, record, source=SOURCE,
                          id_=derived_id(command_id, "rejected"), cause=command)
        entries = [OutboxEntry.of(self._topics.case_rejections, event)]
        if await self._store.record_refusal(command_id, entries):
            await self._flush(self._store.refusal_outbox_store, command_id, entries)

    def _entries(self, command: CloudEvent, outcome: Accepted) -> list[OutboxEntry]:
        now = self._clock()
        return [
            OutboxEntry.of(self._topics.case_events, new_event(
                type_, outcome.case.id, data, source=SOURCE, id_=derived_id(command.id, i), cause=command, time=now))
            for i, (type_, data) in enumerate(outcome.events)
        ]

    async def _account_for(self, command: CloudEvent) -> Account | None:
        account_id = command.data.get("account_id") if command.type == "case.open" else None
        if not isinstance(account_id, str):
            return None
        found = await self._store.get_account(account_id)
        return Account.model_validate(found) if found else None

    async def _upsert_account(self, command: CloudEvent) -> str:
        try:
            data: BaseModel = COMMAND_TYPES[ACCOUNT_UPSERT].model_validate(command.data)
        except ValidationError as exc:
            await self.refuse(command.id, "invalid", describe_validation_error(exc, "account"), command=command)
            return "rejected"
        account: dict[str, Any] = data.model_dump(mode="json", exclude={"actor"})
        if command.subject != account["account_id"]:
            await self.refuse(command.id, "invalid", "The subject of an account.upsert must be its account_id.",
                              command=command)
            return "rejected"
        upserted = AccountUpserted.model_validate(account)
        event = new_event("account.upserted", account["account_id"], upserted, source=SOURCE,
                          id_=derived_id(command.id, 0), cause=command, time=self._clock())
        entries = [OutboxEntry.of(self._topics.case_events, event)]
        await self._store.upsert_account(account, entries)
        await self._flush(self._store.account_outbox, account["account_id"], entries)
        return "accepted"

    async def _flush(self, outbox: BulkMarkable, owner_id: str, entries: list[OutboxEntry]) -> None:
        """Publish what is not on the broker yet; the marks are written in bulk a moment later."""
        unsent = [e for e in entries if e.id not in self._marks.published]
        if unsent:
            await self._publisher.publish(unsent)
            self._marks.add(outbox, owner_id, [e.id for e in unsent])


__all__ = ["Case", "ConcurrentWriteError", "IntakeService"]
