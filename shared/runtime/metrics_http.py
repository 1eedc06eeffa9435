"""`GET /metrics`: the process's registry in Prometheus text format, consumer lag sampled just before.

Lag is read at scrape time from each subscriber's aiokafka consumer: its last known highwater (from the
latest fetch, no request) minus its position (the next offset it hands out), per assigned partition.
Nothing runs between scrapes, and a scrape that finds the consumer busy rebalancing skips the lag
(bounded wait) rather than holding the answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from shared.runtime.metrics import CONSUMER_LAG, REGISTRY, service

LAG_SAMPLE_SECONDS = 1.0  # the longest a scrape waits for positions (only while a partition is being reset)


def consumers(brokers: list[Any]) -> list[AIOKafkaConsumer]:
    """The running aiokafka consumers of the brokers' subscribers (none on the in-memory test broker)."""
    found = []
    for broker in brokers:
        for sub in getattr(broker, "subscribers", ()):
            consumer = getattr(sub, "consumer", None)
            if isinstance(consumer, AIOKafkaConsumer):
                found.append(consumer)
    return found


async def lag_of(consumer: AIOKafkaConsumer) -> dict[tuple[str, int], int]:
    """Records behind the end, per assigned partition the consumer has fetched from at least once."""
    lags = {}
    for tp in list(consumer.assignment()):
        try:
            highwater = consumer.highwater(tp)
            position = await consumer.position(tp) if highwater is not None else None
        except Exception:  # noqa: BLE001  # revoked meanwhile: the partition is someone else's to report
            continue
        if position is not None:
            lags[(tp.topic, tp.partition)] = max(0, highwater - position)
    return lags


async def sample_lag(brokers: list[Any]) -> None:
    """Replace the lag series with the partitions the process holds now (revoked ones disappear)."""
    try:
        found = await asyncio.wait_for(asyncio.gather(*(lag_of(c) for c in consumers(brokers))), LAG_SAMPLE_SECONDS)
    except TimeoutError:
        structlog.get_logger().bind(component="metrics").warning("metrics.lag_sample_timed_out")
        return
    CONSUMER_LAG.clear()
    for lags in found:
        for (topic, partition), lag in lags.items():
            CONSUMER_LAG.labels(service(), topic, str(partition)).set(lag)


def metrics_endpoint(streams: Any) -> Any:
    """The Starlette endpoint of `/metrics` for a FastStream app (its brokers' consumers give the lag)."""

    async def metrics(_: Request) -> Response:
        await sample_lag(list(getattr(streams, "brokers", ())))
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return metrics
