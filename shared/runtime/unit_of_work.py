"""One batched unit of work for every service: load, decide, compare-and-set, publish, mark.

For a batch of messages: every aggregate they touch is loaded with one query; each key's messages are
decided in order by the service's pure `decide`, folding the state in memory; every changed aggregate
is written with one unordered bulk of compare-and-set writes (plus one insert of the refusals); the
keys that lost a race are loaded again and decided again from fresh state; then all new outbox
entries go to the broker together, their acknowledgements awaited once, and are marked in bulk.

Exactly-once stays per aggregate: the message ids applied to an aggregate are stored in its
document in the same write as the state and the outbox, so a redelivered message is a duplicate.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from shared.contract.envelope import CloudEvent, now_utc
from shared.runtime import tracing
from shared.runtime.marks import BulkMarkable, PublishedMarks
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.runtime.refusals import RefusedCommand, rejection

S = TypeVar("S")
MAX_ATTEMPTS = 20


class ConcurrentWriteError(RuntimeError):
    """An aggregate kept changing under us; the batch is tried again by redelivery."""


@dataclass(frozen=True)
class Message:
    """One readable record of the batch: the envelope and, on ingress topics, the principal that wrote it."""

    event: CloudEvent
    principal: str | None = None

    @property
    def key(self) -> str:
        """The aggregate it concerns: the envelope's subject (the record's key)."""
        return self.event.subject or ""


@dataclass
class Loaded(Generic[S]):
    """An aggregate as stored: state, version, recently applied message ids, entries not yet marked published."""

    key: str
    state: S
    version: int
    applied: frozenset[str] = frozenset()
    outbox: list[OutboxEntry] = field(default_factory=list)
    extra: Any = None  # what else the store read for its own use (e.g. intake's history a crash left pending)


@dataclass
class Step(Generic[S]):
    """What `decide` made of one message: a new state with its entries, a refusal, or nothing to do.

    `state` None: nothing changes (ignored). `refusal` (code, reason): the command is refused, once,
    with `entries` published beside the rejection record. `note`: anything the store keeps with the
    write (e.g. a routing decision); the outcome label is what the consumer logs.
    """

    outcome: str
    state: S | None = None
    entries: list[OutboxEntry] = field(default_factory=list)
    refusal: tuple[str, str] | None = None
    note: Any = None
    about: CloudEvent | None = None  # the command as the service read it (e.g. its actor verified), if not as sent

    @classmethod
    def refused(cls, code: str, reason: str, entries: list[OutboxEntry] | None = None,
                about: CloudEvent | None = None) -> "Step[Any]":
        """A refusal of the command (recorded once, by command id)."""
        return cls("rejected", refusal=(code, reason), entries=entries or [], about=about)


@dataclass
class Change(Generic[S]):
    """One aggregate's write: from `loaded` (None: a new one) to `state`, with what the batch applied to it.

    `outbox` is the whole outbox the document keeps after the write: the loaded entries not yet known
    published, then the new `entries`. A store that sets it (rather than appending `entries`) spares
    the separate write that would mark the published ones.
    """

    key: str
    loaded: Loaded[S] | None
    state: S
    message_ids: list[str]
    entries: list[OutboxEntry]
    notes: list[Any] = field(default_factory=list)
    outbox: list[OutboxEntry] = None  # type: ignore[assignment]  # by default: every loaded entry, then the new

    def __post_init__(self) -> None:
        if self.outbox is None:
            self.outbox = (self.loaded.outbox if self.loaded else []) + self.entries


@dataclass
class Refusal:
    """A refused command's record: its id and the entries published for it (the rejection first)."""

    command_id: str
    entries: list[OutboxEntry]


class AggregateStore(Protocol[S]):
    """Where a service's aggregates live: loaded many at once, written many at once, compare-and-set.

    A store whose `save` sets each document's outbox to `Change.outbox` has `replaces_outbox = True`.
    """

    outbox: BulkMarkable

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[S]]:
        """The stored aggregates among `keys` (absent ones are left out)."""

    async def save(self, changes: Sequence[Change[S]]) -> set[str]:
        """Write every change whose aggregate is still as loaded; the keys of those that lost the race."""


class RefusalBook(Protocol):
    """Refusals by command id, each stored once with its entries."""

    outbox: BulkMarkable

    async def seen(self, command_ids: Sequence[str]) -> dict[str, list[OutboxEntry]]:
        """The commands among these refused before, with their still-unpublished entries."""

    async def record(self, refusals: Sequence[Refusal]) -> set[str]:
        """Store the refusals; the ids of those stored before (their first result stands)."""


Decide = Callable[[S | None, Message], "Step[S] | Awaitable[Step[S]]"]


class UnitOfWork(Generic[S]):
    """Runs batches of messages through a service's `decide` against its store; see the module docstring."""

    def __init__(self, store: AggregateStore[S], publisher: Publisher, marks: PublishedMarks, *,
                 refusals: RefusalBook | None = None, rejections_topic: str = "", source: str = "",
                 clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._publisher, self._marks = store, publisher, marks
        self._refusals, self._rejections, self._source, self._clock = refusals, rejections_topic, source, clock
        # A store that sets `Change.outbox` as the document's outbox (rather than appending `entries`) says so.
        self._replaces = bool(getattr(store, "replaces_outbox", False))

    async def run(self, messages: Sequence[Message], decide: Decide[S]) -> list[str]:
        """Apply `messages` (in order per key); one outcome label per message, in the same order."""
        outcomes: dict[int, str] = {}
        by_key: dict[str, list[int]] = {}
        for i, message in enumerate(messages):
            by_key.setdefault(message.key, []).append(i)
        # What is known published as the reads start: a mark written while they are under way takes its ids
        # out of `published`, yet the documents read may still hold them (its $pull came after the read).
        sent = set(self._marks.published)
        # The two reads of a batch go out together: each is a round trip the batch would wait for in turn.
        seen = self._refusals.seen([m.event.id for m in messages]) if self._refusals else _nothing({})
        refused_before, loaded = await asyncio.gather(seen, self._store.load(list(by_key)))
        publish: list[tuple[BulkMarkable, str, list[OutboxEntry]]] = [
            (self._refusals.outbox, cid, entries) for cid, entries in refused_before.items() if entries]  # type: ignore[union-attr]
        todo = by_key
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                sent |= self._marks.published
                loaded = await self._store.load(list(todo))
            changes, refusals = [], []
            for key, indexes in todo.items():
                change = await self._fold(loaded.get(key), key, [(i, messages[i]) for i in indexes],
                                          refused_before, decide, outcomes, refusals)
                if change is not None:
                    changes.append(change)
                elif key in loaded and loaded[key].outbox:  # nothing new: finish what a crash left unsent
                    publish.append((self._store.outbox, key, loaded[key].outbox))
            for change in changes:
                kept = [e for e in (change.loaded.outbox if change.loaded else [])
                        if e.id not in self._marks.published and e.id not in sent]
                change.outbox = kept + change.entries
            lost, _ = await asyncio.gather(self._store.save(changes) if changes else _nothing(set()),
                                           self._record(refusals, refused_before, publish, outcomes))
            for change in changes:
                if change.key not in lost:
                    publish.append((self._store.outbox, change.key, change.outbox))
                    if change.loaded and self._replaces:  # written without the entries already published: no marks
                        kept = {e.id for e in change.outbox}
                        self._marks.cleared(self._store.outbox, change.key,
                                            [e.id for e in change.loaded.outbox if e.id not in kept])
            if not lost:
                break
            todo = {key: by_key[key] for key in lost}
            refused_before |= {r.command_id: [] for r in refusals}  # decided once: the first result stands
        else:
            raise ConcurrentWriteError(f"aggregates {sorted(todo)[:5]} kept changing ({MAX_ATTEMPTS} tries)")
        await self._publish(publish, sent)
        return [outcomes[i] for i in range(len(messages))]

    async def _fold(self, loaded: Loaded[S] | None, key: str, items: list[tuple[int, Message]],
                    refused_before: dict[str, list[OutboxEntry]], decide: Decide[S], outcomes: dict[int, str],
                    refusals: list[tuple[int, Message, Step[S]]]) -> Change[S] | None:
        """Decide one key's messages in order on an in-memory copy; the change to write, if any."""
        state = loaded.state if loaded else None
        applied = set(loaded.applied) if loaded else set()
        change: Change[S] | None = None
        for i, message in items:
            if message.event.id in applied or message.event.id in refused_before:
                outcomes[i] = "duplicate"
                continue
            with tracing.handling(message.event):  # what it publishes carries this span's context
                step = decide(state, message)
                if inspect.isawaitable(step):
                    step = await step
            outcomes[i] = step.outcome
            if step.refusal is not None:
                refusals.append((i, message, step))
            elif step.state is not None:
                state = step.state
                applied.add(message.event.id)
                if change is None:
                    change = Change(key, loaded, state, [], [])
                change.state = state
                change.message_ids.append(message.event.id)
                change.entries.extend(step.entries)
                if step.note is not None:
                    change.notes.append(step.note)
        return change

    async def _record(self, refusals: list[tuple[int, Message, Step[S]]], refused_before: dict[str, list[OutboxEntry]],
                      publish: list[tuple[BulkMarkable, str, list[OutboxEntry]]], outcomes: dict[int, str]) -> None:
        if not refusals:
            return
        assert self._refusals is not None, "a service that refuses needs a RefusalBook"
        now = self._clock()
        records = []
        for _, message, step in refusals:
            code, reason = step.refusal  # type: ignore[misc]
            event = rejection(RefusedCommand.of(step.about or message.event), code, reason, source=self._source, at=now)
            with tracing.handling(message.event, "reject"):  # the rejection stays in the command's trace
                entry = OutboxEntry.of(self._rejections, event)
            records.append(Refusal(message.event.id, [entry, *step.entries]))
        before = await self._refusals.record(records)
        for (i, _, _), record in zip(refusals, records, strict=True):
            if record.command_id in before:
                outcomes[i] = "duplicate"
            else:
                publish.append((self._refusals.outbox, record.command_id, record.entries))

    async def _publish(self, publish: list[tuple[BulkMarkable, str, list[OutboxEntry]]], sent_before: set[str]) -> None:
        """Send what is not on the broker yet, all together, then mark it (in bulk, a moment later)."""
        sent = self._marks.published
        todo = [(store, owner, [e for e in entries if e.id not in sent and e.id not in sent_before])
                for store, owner, entries in publish]
        todo = [(store, owner, entries) for store, owner, entries in todo if entries]
        if not todo:
            return
        await self._publisher.publish_many([e for _, _, entries in todo for e in entries])
        for store, owner, entries in todo:
            self._marks.add(store, owner, [e.id for e in entries])


async def _nothing(value: Any) -> Any:
    """An awaitable of `value`, where no round trip is needed."""
    return value
