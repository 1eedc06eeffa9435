"""Intake's service layer: case commands in batches through the shared unit of work, directory upserts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ValidationError

from intake.core import Accepted, Account, Case, Refused, decide
from intake.core.results import refuse
from intake.ports.store import CaseStore
from shared.contract.commands import AccountUpsert, PersonUpsert
from shared.contract.events import AccountUpserted, PersonUpserted
from shared.contract.envelope import CloudEvent, derived_id, new_event, now_utc
from shared.runtime.inbound import Malformed, describe_validation_error
from shared.runtime.marks import BulkMarkable, PublishedMarks, publish_unsent
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.directory import Person
from shared.runtime.people import FollowedDirectory
from shared.identity import Forbidden, require_roles, verified_actor, with_actor
from shared.principals import Principals, load_principals
from shared.runtime.refusals import RefusedCommand, Refusals
from shared.runtime.unit_of_work import Message, Step, UnitOfWork
from shared.settings import Limits, Topics

SOURCE = "/services/intake"
ACCOUNT_UPSERT, PERSON_UPSERT = "account.upsert", "person.upsert"


class IntakeService:
    """The only writer of cases. One call per command; safe to call again with the same command."""

    def __init__(self, store: CaseStore, publisher: Publisher, topics: Topics, marks: PublishedMarks,
                 clock: Callable[[], datetime] = now_utc, case_bytes: int = Limits().case_bytes,
                 people: FollowedDirectory | None = None, principals: Principals | None = None) -> None:
        self._store, self._publisher, self._topics, self._clock = store, publisher, topics, clock
        self._marks, self._case_bytes = marks, case_bytes
        self._people, self._principals = people or FollowedDirectory(), principals or load_principals()

    @cached_property
    def _uow(self) -> UnitOfWork[Case]:
        return UnitOfWork(self._store, self._publisher, self._marks, refusals=self._store.refusals,
                          rejections_topic=self._topics.case_rejections, source=SOURCE, clock=self._clock)

    @cached_property
    def _refusals(self) -> Refusals:
        """Refusals one at a time, for the directory upserts (cases go through the unit of work)."""
        store = self._store.refusals.outbox
        return Refusals(store, self._topics.case_rejections, SOURCE,
                        lambda command_id, entries: self._flush(store, command_id, entries), self._clock)

    async def handle(self, command: CloudEvent, principal: str) -> str:
        """Apply or refuse `command` sent by `principal`; returns `accepted`, `rejected` or `duplicate`."""
        return (await self.handle_many([Message(command, principal)]))[0]

    async def handle_many(self, messages: Sequence[Message]) -> list[str]:
        """Apply or refuse a batch: case commands through one unit of work, directory upserts one by one."""
        outcomes: dict[int, str] = {}
        cases = [(i, m) for i, m in enumerate(messages) if m.event.type not in (ACCOUNT_UPSERT, PERSON_UPSERT)]
        if cases:
            ids = [m.event.data.get("account_id") for _, m in cases if m.event.type == "case.open"]
            # Read beside the unit of work's own reads; the first case.open decided waits for it.
            accounts = asyncio.ensure_future(self._store.accounts([a for a in ids if isinstance(a, str)]))

            async def decide_with_accounts(case: Case | None, m: Message) -> Step[Case]:
                return self._decide(case, m, await accounts if m.event.type == "case.open" else {})

            try:
                done = await self._uow.run([m for _, m in cases], decide_with_accounts)
            finally:
                if not accounts.done():
                    accounts.cancel()
                elif not accounts.cancelled():
                    accounts.exception()  # retrieved: a failed look-up already failed the batch
            outcomes.update(zip((i for i, _ in cases), done, strict=True))
        for i, m in enumerate(messages):
            if i not in outcomes:
                outcomes[i] = await self._upsert(m.event, m.principal or "")
        return [outcomes[i] for i in range(len(messages))]

    def _decide(self, case: Case | None, message: Message, accounts: dict[str, dict[str, Any]]) -> Step[Case]:
        """One case command on the case as the batch has made it so far (pure but for the clock)."""
        account_id = case.account_id if case else message.event.data.get("account_id")
        command = self._verified(message.event, message.principal or "", account_id if isinstance(account_id, str) else None)
        if isinstance(command, Forbidden):
            return Step.refused("forbidden", str(command))
        found = accounts.get(account_id) if command.type == "case.open" and isinstance(account_id, str) else None
        outcome = decide(case, command, now=self._clock(), account=Account.model_validate(found) if found else None)
        if isinstance(outcome, Accepted):
            outcome = self._within_size(outcome)
        if isinstance(outcome, Refused):
            return Step.refused(outcome.code, outcome.reason, about=command)
        return Step("accepted", state=outcome.case, entries=self._entries(command, outcome))

    async def _upsert(self, command: CloudEvent, principal: str) -> str:
        """An account or person upsert: checked, then applied once."""
        verified = self._verified(command, principal, None)
        if isinstance(verified, Forbidden):
            await self._refusals.refuse(RefusedCommand.of(command), "forbidden", str(verified))
            return "rejected"
        return await (self._upsert_account if command.type == ACCOUNT_UPSERT else self._upsert_person)(verified)

    def _verified(self, command: CloudEvent, principal: str, account_id: str | None) -> CloudEvent | Forbidden:
        """The command with its actor replaced by the one `principal` may speak for, roles from the directory.

        Forbidden when it may not (refused `forbidden`, once): roles a message claims are never read.
        """
        data = command.data if isinstance(command.data, dict) else {}
        try:
            actor = verified_actor(principal, data.get("actor"), self._people(), self._principals, account_id)
            require_roles(command.type, actor, self._principals)
        except Forbidden as no:
            return no
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
        await publish_unsent(self._publisher, self._marks, outbox, owner_id, entries)
