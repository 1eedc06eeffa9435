"""How a batch subscriber takes its next batch: what is fetched, plus what waited behind it on the broker.

aiokafka keeps one fetch in flight per broker, and sends none while fetched records wait in its buffer.
So while a unit of work runs, the fetch sent after its batch returns with the first record that arrives,
and everything after that waits on the broker until the next batch is taken: that next batch is then the
one early record, and the backlog waits a whole unit of work more. Taking the batch sends the next fetch,
so one short follow-up poll brings the backlog into the same batch: under load a hop then costs one unit
of work, not two, and batches are fuller.

The follow-up is only for a batch that was waiting in the buffer: when the first poll had to wait for
its records, they were fetched the moment they reached the broker, and nothing waits behind them yet.
Skipping it then spares an idle consumer a fetch request and FOLLOW_UP_MS on every record's way.

FastStream's batch subscriber also sleeps for `batch_timeout_ms` after an empty poll, although the poll
has already waited that long; records that arrive then wait for nothing. This poll does not sleep.
"""

from __future__ import annotations

import asyncio
from itertools import chain
from typing import Any

from faststream.kafka.subscriber.usecase import BatchSubscriber

FOLLOW_UP_MS = 5  # the follow-up poll: a loopback fetch of records already on the broker returns well within it
WAITED_MS = 2  # a first poll that took longer waited for a fetch (records already buffered return within a millisecond)


class PromptBatchSubscriber(BatchSubscriber):
    """FastStream's batch subscriber with the follow-up poll and without the sleep (see the module docstring)."""

    __slots__ = ()  # the same layout as BatchSubscriber, so an instance can take this class (`prompt`)

    async def get_msg(self, consumer: Any) -> tuple[Any, ...]:
        """The records fetched (waiting up to `batch_timeout_ms` for the first), then those that waited behind them."""
        clock = asyncio.get_running_loop().time
        started = clock()
        batch = await consumer.getmany(timeout_ms=self.batch_timeout_ms, max_records=self.max_records)
        if not batch:
            return ()
        waited = clock() - started > WAITED_MS / 1000
        room = None if self.max_records is None else self.max_records - sum(len(r) for r in batch.values())
        more = await consumer.getmany(timeout_ms=FOLLOW_UP_MS, max_records=room) if room != 0 and not waited else {}
        # Per partition, the follow-up's records come after the first poll's (the fetch position moved on).
        return tuple(chain(*batch.values(), *more.values()))


def prompt(subscriber: Any) -> Any:
    """Make a FastStream batch subscriber poll as `PromptBatchSubscriber` does; any other is left as it is."""
    if type(subscriber) is BatchSubscriber:  # FastStream's subscribers are slotted: the class is what can change
        subscriber.__class__ = PromptBatchSubscriber
    return subscriber
