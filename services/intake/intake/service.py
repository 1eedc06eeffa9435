"""Intake's service layer: dedupe, decide, store state and events in one write, publish."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ValidationError

from intake.core import Accepted, Account, Refused, decide
from intake.core.results import refuse
from intake.ports.store import CaseStore
from shared.contract.commands import AccountUpsert, PersonUpsert
from shared.contract.events import AccountUpserted, PersonUpserted
from shared.contract.envelope import CloudEvent, derived_id, new_event, now_utc
from shared.runtime.inbound import Malformed, describe_validation_error
from shared.runtime.marks import BulkMarkable, PublishedMarks
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.directory import Person
from shared.runtime.people import FollowedDirectory
from shared.identity import Forbidden, require_roles, verified_actor, with_actor
from shared.principals import Principals, load_principals
from shared.runtime.refusals import RefusedCommand, Refusals
from shared.settings import Limits, Topics

SOURCE = "/services/intake"
ACCOUNT_UPSERT, PERSON_UPSERT = "account.upsert", "person.upsert"
MAX_ATTEMPTS = 20


class ConcurrentWriteError(RuntimeError):
    """The case kept changing under us; the command is retried by redelivery."""


class IntakeService:
    """The only writer of cases. One call per command; safe to call again with the same command."""

    def __init__(self, store: CaseStore, publisher: Publisher, topics: Topics, marks: PublishedMarks,
                 clock: Callable[[], datetime] = now_utc, case_bytes: int = Limits().case_bytes,
                 people: FollowedDirectory | None = None, principals: Principals | None = None) -> None:
        self._store, self._publisher, self._topics, self._clock = store, publisher, topics, clock
        self._marks, self._case_bytes = marks, case_bytes
        self._people, self._principals = people or FollowedDirectory(), principals or load_principals()

    @cached_property
    def _refusals(self) -> Refusals:
        store = self._store.refusals
        return Refusals(store, self._topics.case_rejections, SOURCE,
                        lambda command_id, entries: self._flush(store, command_id, entries), self._clock)

    async def handle(self, command: CloudEvent, principal: str) -> str:
        """Apply or refuse `command` sent by `principal`; returns `accepted`, `rejected` or `duplicate`."""
        if command.type in (ACCOUNT_UPSERT, PERSON_UPSERT):
            verified = await self._verified(command, principal, None)
            if verified is None:
                return "rejected"
            return await (self._upsert_account if command.type == ACCOUNT_UPSERT else self._upsert_person)(verified)
        if await self._refusals.seen(command.id):  # refused before: the first result stands
            return "duplicate"
        for _ in range(MAX_ATTEMPTS):
            stored = await self._store.get(command.subject or "", command.id)
            if stored and stored.seen:
                await self._flush(self._store.case_outbox, stored.case.id, stored.outbox)  # finish a crash's work
                return "duplicate"
            account_id = stored.case.account_id if stored else command.data.get("account_id")
            as_sent = command
            command = await self._verified(as_sent, principal, account_id if isinstance(account_id, str) else None)
            if command is None:
                return "rejected"
            outcome = decide(stored.case if stored else None, command, now=self._clock(),
                             account=await self._account_for(command))
            if isinstance(outcome, Accepted):
                outcome = self._within_size(outcome)
            if isinstance(outcome, Refused):
                await self._refusals.refuse(RefusedCommand.of(command), outcome.code, outcome.reason)
                return "rejected"
            entries = self._entries(command, outcome)
            if stored is None:
                written = await self._store.create(outcome.case, command.id, entries)
            else:
                written = await self._store.update(outcome.case, stored.version, command.id, entries)
            if written:
                await self._flush(self._store.case_outbox, outcome.case.id, (stored.outbox if stored else []) + entries)
                return "accepted"
            command = as_sent
        raise ConcurrentWriteError(f"case {command.subject} changed {MAX_ATTEMPTS} times while applying {command.id}")

    async def _verified(self, command: CloudEvent, principal: str, account_id: str | None) -> CloudEvent | None:
        """The command with its actor replaced by the one `principal` may speak for, roles from the directory.

        None when it may not (refused `forbidden`, once): roles a message claims are never read.
        """
        data = command.data if isinstance(command.data, dict) else {}
        try:
            actor = verified_actor(principal, data.get("actor"), self._people(), self._principals, account_id)
            require_roles(command.type, actor, self._principals)
        except Forbidden as no:
            await self._refusals.refuse(RefusedCommand.of(command), "forbidden", str(no))
            return None
        return command.model_copy(update={"data": with_actor(data, actor)})

    def _within_size(self, outcome: Accepted) -> Accepted | Refused:
        """Refuse growing a case past `case_bytes`: every later command on it would fail at the store's limit."""
        size = len(outcome.case.model_dump_json())
        if size <= self._case_bytes:
            return outcome
        return refuse("too_large", f"The case would grow to {size} bytes, over the limit of {self._case_bytes} "
                                   "bytes; keep large content outside the case and link it.")

    async def refuse_malformed(self, bad: Malformed) -> None:
        """A record we could not read as a command, but whose ids we could: refuse it `invalid` (or `too_large`)."""
        await self._refusals.refuse(RefusedCommand.malformed(bad), bad.code, bad.error)

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
        return await self._upsert_entry(
            command, "account", "account_id", "account.upserted",
            lambda data: Account.from_upsert(AccountUpsert.model_validate(data)), AccountUpserted,
            self._store.upsert_account, self._store.account_outbox)

    async def _upsert_person(self, command: CloudEvent) -> str:
        return await self._upsert_entry(
            command, "person", "id", "person.upserted",
            lambda data: Person.model_validate(PersonUpsert.model_validate(data).model_dump(exclude={"actor"})),
            PersonUpserted, self._store.upsert_person, self._store.person_outbox, applied=self._people.apply)

    async def _upsert_entry(self, command: CloudEvent, what: str, key: str, event_type: str,
                            parse: Callable[[dict], BaseModel], event_model: type[BaseModel],
                            save: Callable[..., Awaitable[bool]], outbox: BulkMarkable,
                            applied: Callable[[Any], None] | None = None) -> str:
        """A directory entry (account, person) replaced once per command id, and its event queued in one write."""
        try:
            entry_model = parse(command.data)
        except ValidationError as exc:
            await self._refusals.refuse(RefusedCommand.of(command), "invalid", describe_validation_error(exc, what))
            return "rejected"
        entry_id = getattr(entry_model, key)
        if command.subject != entry_id:
            await self._refusals.refuse(RefusedCommand.of(command), "invalid",
                                        f"The subject of a {what}.upsert must be its {key}.")
            return "rejected"
        entry = entry_model.model_dump(mode="json")
        event = new_event(event_type, entry_id, event_model.model_validate(entry),
                          source=SOURCE, id_=derived_id(command.id, 0), cause=command, time=self._clock())
        entries = [OutboxEntry.of(self._topics.case_events, event)]
        if not await save(entry, command.id, entries):
            return "duplicate"  # the first result stands; the relay publishes what a crash left unsent
        if applied is not None:
            applied(entry_model)  # this replica at once; the others on their next refresh from the store
        await self._flush(outbox, entry_id, entries)
        return "accepted"

    async def _flush(self, outbox: BulkMarkable, owner_id: str, entries: list[OutboxEntry]) -> None:
        """Publish what is not on the broker yet; the marks are written in bulk a moment later."""
        unsent = [e for e in entries if e.id not in self._marks.published]
        if unsent:
            await self._publisher.publish(unsent)
            self._marks.add(outbox, owner_id, [e.id for e in unsent])
