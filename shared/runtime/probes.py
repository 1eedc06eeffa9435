"""Liveness and readiness: /livez asks only the process, /readyz its dependencies too.

They differ on purpose. A broker or store outage makes a service unready (taken out of load
balancing, its consumers pause and retry) but not dead: restarting it would not bring Kafka back,
and restarting every pod during a two-minute outage only adds a rebalance storm. Liveness fails
only when a restart helps: a background loop (relay, marks, scheduler, dispatcher) has died.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from faststream.asgi import AsgiResponse, get
from faststream.kafka import KafkaBroker

HealthCheck = Callable[[], Awaitable[bool]]
CHECK_SECONDS = 3.0  # each dependency answers within this or counts as down: a probe must beat the kubelet's timeout


class Background(Protocol):
    """A background loop: started after start-up, stopped (with a last flush) after the consumers drained."""

    async def start(self) -> None:
        """Start it."""

    async def stop(self) -> None:
        """Stop it, finishing the work in hand."""

    @property
    def running(self) -> bool:
        """False once it has stopped or died."""


class Lifecycle:
    """Where the service is: starting, ready (every start-up hook ran) or draining (SIGTERM received)."""

    def __init__(self, background: Sequence[Background] = ()) -> None:
        self.phase = "starting"
        self._background = list(background)

    @staticmethod
    def name_of(loop: Background) -> str:
        """A loop's name for probes and logs."""
        return getattr(loop, "name", None) or type(loop).__name__

    async def mark_ready(self) -> None:
        """The last after-startup hook."""
        self.phase = "ready"

    async def begin_drain(self) -> None:
        """The first shutdown hook: from now on /readyz says 503, so no new work is routed here."""
        self.phase = "draining"

    def dead_loops(self) -> list[str]:
        """Background loops that should run but do not (only checked while ready: before, they are not
        started yet; while draining, they are being stopped on purpose)."""
        if self.phase != "ready":
            return []
        return [self.name_of(b) for b in self._background if not b.running]


def _json(body: dict[str, Any], status: int) -> AsgiResponse:
    return AsgiResponse(json.dumps(body).encode(), status, headers={"content-type": "application/json"})


async def _answers(check: HealthCheck) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), CHECK_SECONDS))
    except Exception:  # a hung or failing dependency is simply "down"; its own logs say why
        return False


def livez_route(life: Lifecycle) -> Any:
    """GET /livez: 200 while the event loop answers and no background loop has died; no dependency is asked."""

    @get(description="Liveness: the process and its background loops are alive. Asks no dependency.")
    async def livez(scope: Any) -> AsgiResponse:  # noqa: ARG001
        dead = life.dead_loops()
        return _json({"phase": life.phase, "dead_loops": dead}, 503 if dead else 200)

    return livez


def readyz_route(broker: KafkaBroker, checks: dict[str, HealthCheck], life: Lifecycle) -> Any:
    """GET /readyz: 200 when start-up is done, not draining, and the broker and every store answer; else 503."""

    @get(description="Readiness: started, not shutting down, and the broker and every store answer.")
    async def readyz(scope: Any) -> AsgiResponse:  # noqa: ARG001
        results = {"started": life.phase == "ready"}
        if results["started"]:  # before start-up is done (or while draining) nothing else matters
            named = {"kafka": lambda: broker.ping(timeout=CHECK_SECONDS), **checks}
            answers = await asyncio.gather(*(_answers(check) for check in named.values()))
            results.update(zip(named, answers, strict=True))
        body = {name: "up" if ok else "down" for name, ok in results.items()}
        body["phase"] = life.phase
        return _json(body, 200 if all(results.values()) else 503)

    return readyz
