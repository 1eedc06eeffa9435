"""Where a batch stopped, per partition: commit what was handled, rewind only the partitions that failed."""

from __future__ import annotations

import asyncio
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


# Each consumer's last commit: the next one waits for it, so offsets reach the group coordinator in order.
_commits: "weakref.WeakKeyDictionary[Any, asyncio.Future[None]]" = weakref.WeakKeyDictionary()
_draining = False  # once set, every commit is awaited by the batch that makes it


async def settle_commits() -> None:
    """Wait for every commit under way, and have every later one awaited by its batch (the drain calls this
    before it stops the consumers, so the committed offsets cover exactly what was handled)."""
    global _draining
    _draining = True
    await asyncio.gather(*list(_commits.values()))


class Cursor:
    """The position of the consumer a batch came from: commit offsets, seek back and pause a partition.

    A commit is sent in the background: the next batch is fetched and handled while the group coordinator
    answers (a round trip per batch saved). Commits stay in order per consumer; a crash before one lands
    only redelivers records the handlers see again as duplicates.
    """

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer
        self._log = structlog.get_logger()

    @property
    def redelivers(self) -> bool:
        """False for FastStream's in-memory test broker, whose fake consumer can neither seek nor commit."""
        return isinstance(self._consumer, AIOKafkaConsumer)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit explicit offsets; a partition lost to a rebalance is skipped (its new owner reads it again)."""
        assigned = self._consumer.assignment()
        mine = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        if not mine:
            return
        task = asyncio.ensure_future(self._commit_after(_commits.get(self._consumer), mine))
        _commits[self._consumer] = task
        if _draining:
            await task

    async def _commit_after(self, previous: "asyncio.Future[None] | None", offsets: dict[TopicPartition, int]) -> None:
        if previous is not None:
            await previous  # never raises: failures are logged where they happen
        try:
            await self._consumer.commit(offsets)
        except Exception as exc:  # noqa: BLE001  # the next commit covers it; until then a restart rereads (and dedupes)
            self._log.warning("consumer.commit_failed", error=f"{type(exc).__name__}: {exc}")

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
