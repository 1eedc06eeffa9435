"""Where a batch stopped, per partition: commit what was handled, rewind only the partitions that failed."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from dataclasses import dataclass
from typing import Any, NamedTuple

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError


@dataclass
class Stop:
    """The first record of a key that could not be handled, why, and how long its partition waits."""

    record: Any
    error: Exception
    pause: float


class Rewind(NamedTuple):
    """Read a partition again from `offset`, after `pause` seconds."""

    offset: int
    pause: float


def partition_of(rec: Any) -> TopicPartition:
    """The record's topic partition."""
    return TopicPartition(rec.topic, rec.partition)


def plan(records: list[Any], stops: list[Stop]) -> tuple[dict[TopicPartition, int], dict[TopicPartition, Rewind]]:
    """Offsets to commit (the next to read) per partition, and where and how long each failing partition waits.

    A failing partition is committed up to its first unhandled record and read again from there: records
    of other keys after it come again and the handlers dedupe them.
    """
    commits: dict[TopicPartition, int] = {}
    for rec in records:
        tp = partition_of(rec)
        commits[tp] = max(commits.get(tp, 0), rec.offset + 1)
    rewinds: dict[TopicPartition, Rewind] = {}
    for stop in stops:
        tp = partition_of(stop.record)
        seen = rewinds.get(tp, Rewind(stop.record.offset, stop.pause))
        rewinds[tp] = Rewind(min(seen.offset, stop.record.offset), max(seen.pause, stop.pause))
    commits.update({tp: rewind.offset for tp, rewind in rewinds.items()})
    return commits, rewinds


COMMIT_EVERY = 1.0  # seconds: a consumer's offsets go to the group coordinator at most this often


class _Committer:
    """One consumer's handled offsets, sent at most every COMMIT_EVERY seconds, the latest per partition at once.

    Under load a consumer finishes many batches a second, and each commit is a request the broker
    appends to its offsets log; one per second carries the same information. The price is redelivery:
    after a crash up to a second more is read again, which every handler dedupes.
    """

    def __init__(self, consumer: Any) -> None:
        # Weak: `_committers` is keyed weakly by the consumer, and a strong reference here would keep it for ever.
        self._consumer, self._pending = weakref.ref(consumer), {}  # type: ignore[var-annotated]
        self._task: asyncio.Future[None] | None = None
        self._woken = asyncio.Event()
        self._log = structlog.get_logger()

    def add(self, offsets: dict[TopicPartition, int]) -> asyncio.Future[None]:
        """Queue the offsets (offsets only grow: a rewind commits where its partition is read again); the send."""
        self._pending.update(offsets)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._send())
        return self._task

    async def _send(self) -> None:
        while self._pending:
            if not _draining:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), COMMIT_EVERY)
            self._woken.clear()
            consumer = self._consumer()
            if consumer is None:  # gone with its subscriber: nothing left to commit to
                return
            assigned = consumer.assignment()  # a partition lost meanwhile is read again by its new owner
            offsets = {tp: offset for tp, offset in self._pending.items() if tp in assigned}
            self._pending = {}
            try:
                if offsets:
                    await consumer.commit(offsets)
            except Exception as exc:  # noqa: BLE001  # the next commit covers it; until then a restart rereads (and dedupes)
                self._log.warning("consumer.commit_failed", error=f"{type(exc).__name__}: {exc}")

    def wake(self) -> None:
        """Send what is pending without waiting out the interval."""
        self._woken.set()

    async def settle(self) -> None:
        """Send what is pending now and wait until it has landed."""
        while self._task is not None and not self._task.done():
            await self._task


_committers: "weakref.WeakKeyDictionary[Any, _Committer]" = weakref.WeakKeyDictionary()
_draining = False  # once set, every commit is sent at once and awaited by the batch that makes it


async def settle_commits() -> None:
    """Send every pending commit now, wait for them, and have every later one sent and awaited by its batch (the
    drain calls this before it stops the consumers, so the committed offsets cover exactly what was handled)."""
    global _draining
    _draining = True
    for committer in list(_committers.values()):
        committer.wake()
    await asyncio.gather(*(c.settle() for c in list(_committers.values())))


class Cursor:
    """The position of the consumer a batch came from: commit offsets, seek back and pause a partition.

    Commits go out in the background and coalesced (`_Committer`): the next batch is fetched and handled
    while the group coordinator answers. A crash before one lands only redelivers records the handlers
    see again as duplicates.
    """

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer
        self._log = structlog.get_logger()

    @property
    def redelivers(self) -> bool:
        """False for FastStream's in-memory test broker, whose fake consumer can neither seek nor commit."""
        return isinstance(self._consumer, AIOKafkaConsumer)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit explicit offsets, soon; a partition lost to a rebalance is skipped (its new owner reads it again)."""
        assigned = self._consumer.assignment()
        mine = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        if not mine:
            return
        committer = _committers.get(self._consumer)
        if committer is None:
            committer = _committers[self._consumer] = _Committer(self._consumer)
        sent = committer.add(mine)
        if _draining:
            await sent

    def rewind(self, tp: TopicPartition, offset: int, pause: float) -> None:
        """Read `tp` again from `offset` after `pause` seconds; other partitions go on meanwhile."""
        try:
            self._consumer.seek(tp, offset)
            self._consumer.pause(tp)
        except KafkaError as exc:  # no longer ours after a rebalance: its new owner starts at the commit
            self._log.warning("consumer.rewind_skipped", topic=tp.topic, partition=tp.partition, error=str(exc))
            return
        asyncio.get_running_loop().call_later(pause, self._resume, tp)

    def _resume(self, tp: TopicPartition) -> None:
        try:
            self._consumer.resume(tp)
        except Exception:  # noqa: BLE001  # revoked or stopped meanwhile: nothing to resume
            pass
