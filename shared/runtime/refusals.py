"""Refusing a command exactly once: the rejection record, kept by command id with its outbox, then published."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.contract.envelope import CloudEvent, derived_id, new_event
from shared.contract.rejections import REJECTION_TYPE, CommandRejected
from shared.runtime.inbound import Malformed
from shared.runtime.mongo import insert_new
from shared.runtime.mongo_outbox import MongoOutbox, outbox_docs
from shared.runtime.outbox import OutboxEntry


@dataclass(frozen=True)
class RefusedCommand:
    """The refused command as far as it could be read: ids, type, sender and (when readable) the envelope."""

    command_id: str
    case_id: str | None = None
    command_type: str | None = None
    actor_id: str | None = None
    command: CloudEvent | None = None

    @classmethod
    def of(cls, command: CloudEvent) -> "RefusedCommand":
        """A readable command."""
        actor = command.data.get("actor")
        actor_id = actor.get("id") if isinstance(actor, dict) else None
        return cls(command.id, command.subject, command.type, actor_id if isinstance(actor_id, str) else None, command)

    @classmethod
    def malformed(cls, bad: Malformed) -> "RefusedCommand":
        """A record that is not a valid envelope but whose command id could be read."""
        assert bad.command_id, "only a record with a readable id can be refused"
        return cls(bad.command_id, bad.case_id, bad.type, bad.actor_id)

    @property
    def subject(self) -> str:
        """Kafka key and CloudEvent subject of what is published about it: the case id, else the command id."""
        return self.case_id or self.command_id


def rejection(refused: RefusedCommand, code: str, reason: str, *, source: str, at: datetime) -> CloudEvent:
    """The `case.command_rejected` envelope; its id derives from the command id, so a replay yields the same."""
    record = CommandRejected(command_id=refused.command_id, command_type=refused.command_type,
                             case_id=refused.case_id, code=code, reason=reason, actor_id=refused.actor_id,
                             rejected_at=at)
    return new_event(REJECTION_TYPE, refused.subject, record, source=source,
                     id_=derived_id(refused.command_id, "rejected"), cause=refused.command)


class RefusalStore(Protocol):
    """Refusals keyed by command id, each with its outbox."""

    async def outbox(self, command_id: str) -> list[OutboxEntry] | None:
        """None if the command was never refused, else its still-unpublished entries."""

    async def record(self, command_id: str, entries: list[OutboxEntry]) -> bool:
        """Keep the refusal with its entries; False if this command was refused before."""

    async def mark_published(self, owner_id: str, entry_ids: list[str]) -> None:
        """Drop published entries of one refusal."""


class MongoRefusals(MongoOutbox):
    """RefusalStore over a `refusals` collection: one document per refused command; also its outbox store."""

    async def outbox(self, command_id: str) -> list[OutboxEntry] | None:
        """None if never refused, else its unpublished entries."""
        doc = await self._coll.find_one({"_id": command_id}, {"outbox": 1})
        return None if doc is None else [OutboxEntry.model_validate(e) for e in doc.get("outbox", [])]

    async def record(self, command_id: str, entries: list[OutboxEntry]) -> bool:
        """Insert keyed on the command id, so a redelivered refused command is refused once."""
        return await insert_new(self._coll, {"_id": command_id, "outbox": outbox_docs(entries)})


Flush = Callable[[str, list[OutboxEntry]], Awaitable[None]]  # (command id, entries): publish, then mark


class Refusals:
    """A service's refusals: one rejection record per command, stored before it is published."""

    def __init__(self, store: RefusalStore, topic: str, source: str, flush: Flush,
                 clock: Callable[[], datetime]) -> None:
        self._store, self._topic, self._source, self._flush, self._clock = store, topic, source, flush, clock

    async def seen(self, command_id: str) -> bool:
        """True (after publishing whatever a crash left unsent) when this command was refused before."""
        pending = await self._store.outbox(command_id)
        if pending is None:
            return False
        await self._flush(command_id, pending)
        return True

    async def refuse(self, refused: RefusedCommand, code: str, reason: str, extra: Sequence[OutboxEntry] = ()) -> None:
        """Record exactly one rejection (plus `extra` entries) for the command, then publish them."""
        event = rejection(refused, code, reason, source=self._source, at=self._clock())
        entries = [OutboxEntry.of(self._topic, event), *extra]
        if await self._store.record(refused.command_id, entries):
            await self._flush(refused.command_id, entries)
