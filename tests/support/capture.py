"""Recording what a service publishes on FastStream's in-memory broker (handler tests)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from faststream.kafka import KafkaBroker

Decode = Callable[[bytes], Any]


async def _raw(msg: Any) -> bytes:
    return msg.body  # what was published, byte for byte


def capture(broker: KafkaBroker, topics: dict[str, str | tuple[str, Decode]]) -> dict[str, list[Any]]:
    """Subscribe one recorder per bucket: name -> topic (JSON-decoded) or (topic, decode); returns the buckets."""
    seen: dict[str, list[Any]] = {}
    for name, target in topics.items():
        topic, decode = target if isinstance(target, tuple) else (target, json.loads)
        seen[name] = []

        def recorder(bucket: list[Any], decode: Decode = decode) -> Callable[[bytes], Any]:
            async def record(body: bytes) -> None:
                bucket.append(decode(body))
            return record

        broker.subscriber(topic, decoder=_raw, group_id=f"capture-{name}")(recorder(seen[name]))
    return seen


def as_bytes(body: bytes) -> bytes:
    """Keep a record undecoded (dead letters may be anything)."""
    return body
