"""Service runtime: broker and app factory, health endpoint, serving with graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker

from shared.logging import configure_logging, library_logger
from shared.runtime.http import Route, Router
from shared.settings import Settings

HealthCheck = Callable[[], Awaitable[bool]]


def create_broker(settings: Settings) -> KafkaBroker:
    """A broker whose producer is idempotent with acks=all, so retries never duplicate a record."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        enable_idempotence=True,
        acks="all",
        # FastStream logs every message at INFO; our handlers log what matters themselves.
        log_level=logging.DEBUG,
        logger=library_logger("runtime.broker"),
    )


class Readiness:
    """Set once every start-up hook has run, so /health never says ready too early."""

    def __init__(self) -> None:
        self.ready = False

    async def mark_ready(self) -> None:
        """The last after-startup hook."""
        self.ready = True


def health_route(broker: KafkaBroker, checks: dict[str, HealthCheck], readiness: Readiness | None = None) -> Any:
    """GET /health: 200 with each dependency's state when started and all are up, 503 otherwise."""

    @get(description="Liveness and readiness: started, and the broker and every store answer.")
    async def health(scope: Any) -> AsgiResponse:  # noqa: ARG001
        results = {"started": readiness is None or readiness.ready, "kafka": await broker.ping(timeout=3)}
        for name, check in checks.items():
            results[name] = await check()
        body = ",".join(f'"{k}":"{"up" if v else "down"}"' for k, v in results.items())
        status = 200 if all(results.values()) else 503
        return AsgiResponse(("{" + body + "}").encode(), status, headers={"content-type": "application/json"})

    return health


def create_app(
    broker: KafkaBroker,
    *,
    checks: dict[str, HealthCheck] | None = None,
    routes: Sequence[tuple[str, Any]] = (),
    on_startup: Sequence[Callable[..., Any]] = (),
    after_startup: Sequence[Callable[..., Any]] = (),
    on_shutdown: Sequence[Callable[..., Any]] = (),
    http_routes: Sequence[Route] = (),
) -> AsgiFastStream | Router:
    """The FastStream app of a service, with /health; `http_routes` (with `{param}` templates) go in front of it."""
    readiness = Readiness()
    app = AsgiFastStream(
        broker,
        asgi_routes=[("/health", health_route(broker, checks or {}, readiness)), *routes],
        logger=library_logger("runtime.app"),
        on_startup=list(on_startup),
        after_startup=[*after_startup, readiness.mark_ready],
        on_shutdown=list(on_shutdown),
    )
    return Router(app, http_routes) if http_routes else app


def serve(app: Any, settings: Settings) -> None:
    """Run the app under uvicorn until SIGINT/SIGTERM, then stop consumers and flush producers."""
    config = uvicorn.Config(
        app, host=settings.http_host, port=settings.http_port, log_level="warning", lifespan="on"
    )
    asyncio.run(uvicorn.Server(config).serve())


def run(build: Callable[[Any], Any], settings: Settings) -> None:
    """The body of every service's `main()`: configure logging, build the app for `settings`, serve it."""
    configure_logging(settings.service_name, settings.log_level)
    serve(build(settings), settings)
