"""Wires intake: settings → store, broker, service, subscriber, relay, app."""

from __future__ import annotations

import asyncio
import contextlib

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker

from intake.adapters.outbound.mongo_store import MongoCaseStore
from intake.core import load_seed_accounts
from intake.service import IntakeService
from shared.logging import configure_logging
from shared.runtime import mongo
from shared.runtime.app import create_app, create_broker, serve
from shared.runtime.consumer import subscribe
from shared.runtime.outbox import OutboxRelay, Publisher
from shared.settings import Settings


def build(settings: Settings, broker: KafkaBroker | None = None) -> AsgiFastStream:
    """The intake app for `settings`; tests pass their own broker (e.g. TestKafkaBroker's)."""
    broker = broker or create_broker(settings)
    client, db = mongo.connect(settings.mongodb_url, settings.mongodb_database)
    store = MongoCaseStore(db)
    publisher = Publisher(broker)
    service = IntakeService(store, publisher, settings.topics)
    subscribe(broker, settings.topics.case_commands, settings.group_id, service.handle, service.refuse_malformed)
    relay = OutboxRelay([store.case_outbox, store.refusal_outbox_store], publisher, settings.outbox_sweep_seconds)
    tasks: list[asyncio.Task] = []

    async def prepare() -> None:
        await store.ensure_indexes()
        await store.seed_accounts([a.model_dump(mode="json") for a in load_seed_accounts()])

    async def start_relay() -> None:
        await relay.sweep(grace=0)  # publish what a crash left behind before anything new
        tasks.append(asyncio.create_task(relay.run()))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await client.close()

    app = create_app(broker, checks={"store": lambda: mongo.ping(client)},
                     on_startup=[prepare], after_startup=[start_relay], on_shutdown=[stop])
    app.context.set_global("intake_service", service)
    return app


def main() -> None:
    """Entry point of `python -m intake`."""
    settings = Settings(service_name="intake")
    configure_logging(settings.service_name, settings.log_level)
    serve(build(settings), settings)
