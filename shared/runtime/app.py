"""Service runtime: broker and app factory, liveness and readiness probes, serving with a graceful drain."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
import uvicorn
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from shared.logging import configure_logging, library_logger
from shared.runtime import metrics, tracing
from shared.runtime.api import mount_api
from shared.runtime.partitions import settle_commits
from shared.runtime.probes import Background, HealthCheck, Lifecycle, livez_route, readyz_route
from shared.settings import Settings

__all__ = ["Background", "HealthCheck", "create_app", "create_broker", "run", "serve"]



def create_broker(settings: Settings) -> KafkaBroker:
    """A broker whose producer is idempotent with acks=all, so retries never duplicate a record.

    The producer takes any record up to `limits.broker_bytes`, the size every topic accepts, and batches
    as `kafka_client` says; on shutdown the broker waits up to `shutdown_grace_seconds` for the records
    being handled. It connects as the service's principal (SASL) over TLS when the settings say so
    (shared/runtime/kafka_security.py).
    """
    from shared.runtime.kafka_security import faststream_security

    metrics.bind_service(settings.service_name)
    return KafkaBroker(
        # A list: FastStream passes a single string on as one host, so "a:1,b:2" (a cluster) never connected.
        settings.kafka_bootstrap_servers.split(","),
        client_id=settings.service_name,
        enable_idempotence=True,
        acks="all",
        max_request_size=settings.limits.broker_bytes,
        # linger and batch size: a unit of work's records leave together (settings.kafka_client, docs/design.md)
        **settings.kafka_client.producer_options(),
        graceful_timeout=settings.shutdown_grace_seconds,
        # FastStream logs every message at INFO; our handlers log what matters themselves.
        log_level=logging.DEBUG,
        logger=library_logger("runtime.broker"),
        security=faststream_security(settings),
        # per-topic consume/publish counts, durations and sizes, in the process's registry (docs/operations.md)
        middlewares=(KafkaPrometheusMiddleware(registry=metrics.REGISTRY, app_name=settings.service_name,
                                               metrics_prefix=metrics.FASTSTREAM_PREFIX),),
    )


async def drain_consumers(broker: KafkaBroker) -> None:
    """Stop fetching and wait for the batches being handled (each up to the broker's graceful_timeout).

    Their handlers still need the store and the producer, and each batch's offsets are committed as
    it completes; so this runs before the background loops' last flush and before anything closes.
    Commits sent in the background land first, while the consumers are still open.
    """
    await settle_commits()
    await asyncio.gather(*(sub.stop() for sub in broker.subscribers))


def _bounded(stop: Callable[[], Awaitable[Any]], name: str, seconds: float) -> Callable[[], Awaitable[None]]:
    """A shutdown step that gives up after `seconds`: a hung flush must not hold the process for ever."""

    async def step() -> None:
        try:
            await asyncio.wait_for(stop(), seconds)
        except TimeoutError:  # what it did not flush stays in the store and is sent after the restart
            structlog.get_logger().warning("shutdown.step_timed_out", step=name, seconds=seconds)

    return step


def create_app(
    broker: KafkaBroker,
    *,
    checks: dict[str, HealthCheck] | None = None,
    routes: Sequence[tuple[str, Any]] = (),
    on_startup: Sequence[Callable[..., Any]] = (),
    after_startup: Sequence[Callable[..., Any]] = (),
    background: Sequence[Background] = (),
    on_shutdown: Sequence[Callable[..., Any]] = (),
    after_shutdown: Sequence[Callable[..., Any]] = (),
    routers: Sequence[Any] = (),
    settings: Settings | None = None,
    grace_seconds: float = 15.0,
) -> Any:
    """The FastStream app of a service, with /livez and /readyz; FastAPI `routers` go in front (`mount_api`).

    Start: `on_startup`, the broker and its consumers, `after_startup`, then each `background` loop in
    order, then ready. SIGTERM (FastStream: on_shutdown hooks, broker stop, after_shutdown hooks):
    not ready any more, `on_shutdown`, the consumers drain, the background loops stop in reverse order
    with a last flush, the broker stops (producer flushed), then `after_shutdown` closes the stores.
    """
    life = Lifecycle(background)

    async def drain() -> None:  # a coroutine function: FastStream would run a plain callable in a thread
        await drain_consumers(broker)

    names = [life.name_of(b) for b in background]
    stops = [_bounded(b.stop, name, grace_seconds) for b, name in zip(background, names, strict=True)]
    app = AsgiFastStream(
        broker,
        asgi_routes=[("/livez", livez_route(life)), ("/readyz", readyz_route(broker, checks or {}, life)),
                     # /health: the old single probe, kept as an alias of /readyz while pollers move over
                     ("/health", readyz_route(broker, checks or {}, life)), *routes],
        logger=library_logger("runtime.app"),
        on_startup=list(on_startup),
        after_startup=[*after_startup, *(b.start for b in background), life.mark_ready],
        on_shutdown=[life.begin_drain, *on_shutdown, drain, *reversed(stops)],
        after_shutdown=list(after_shutdown),
    )
    return mount_api(app, routers, settings or Settings()) if routers else app


def serve(app: Any, settings: Settings) -> None:
    """Run the app under uvicorn until SIGINT/SIGTERM: open requests get `shutdown_grace_seconds`, then the drain."""
    config = uvicorn.Config(
        app, host=settings.http_host, port=settings.http_port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # type: ignore[arg-type]  # a float works
    )
    asyncio.run(uvicorn.Server(config).serve())


def run(build: Callable[[Any], Any], settings: Settings) -> None:
    """The body of every service's `main()`: configure logging and tracing, build the app for `settings`, serve it."""
    configure_logging(settings.service_name, settings.log_level)
    tracing.configure(settings)  # TRACING__EXPORTER; off by default (shared/runtime/tracing.py)
    app = build(settings)
    freeze_heap()
    serve(app, settings)


def freeze_heap() -> None:
    """Take what is built so far (modules, models, data files, the wiring) out of the collector's reach.

    Otherwise every full collection walks all of it again, 50-90 ms in the middle of a batch under load
    (bench/intake.py); frozen, it walks only what messages made since. Unreachable frozen objects are
    still freed by reference counting; only a cycle among them would stay.
    """
    gc.collect()
    gc.freeze()
