"""Wires intake: settings → store, broker, service, subscriber, relay, read API, app."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker

from intake.adapters.inbound.http import case_routes, customers
from intake.adapters.outbound.mongo_read import MongoCaseReader
from intake.adapters.outbound.mongo_store import MongoCaseStore
from intake.core import load_lifecycles, load_seed_accounts
from intake.core.listing import closed_statuses
from intake.ports.store import CaseStore
from intake.service import IntakeService
from intake.settings import IntakeSettings
from shared.auth import Auth
from shared.auth.principal import Principals
from shared.contract import catalog
from shared.contract.catalog import CommandRejectedEnvelope
from shared.runtime import mongo
from shared.runtime.app import create_app, create_broker, run
from shared.runtime.consumer import subscribe
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxRelay, Publisher
from shared.runtime.people import FollowedDirectory, MongoPeople
from shared.settings import Settings, Topics


def register(broker: KafkaBroker, settings: Settings, store: CaseStore, marks: PublishedMarks,
             people: FollowedDirectory | None = None) -> IntakeService:
    """Subscribe intake to its commands and declare what it publishes; returns the service."""
    topics = settings.topics
    service = IntakeService(store, Publisher(broker, settings.limits.record_bytes), topics, marks,
                            case_bytes=settings.limits.case_bytes, people=people)
    ingress = topics.ingress("case_commands")
    subscribe(broker, ingress, settings.group_id, on_malformed=service.refuse_malformed, many=service.handle_many,
              limits=settings.limits, schema=catalog.CommandEnvelope,
              description="Commands for cases and the account and people directories, one ingress topic per sending principal "
                          "(`case.commands.<principal>`, writable by that principal alone).")
    broker.publisher(topics.case_events, schema=catalog.EventEnvelope, title=topics.case_events,
                     description="Facts about cases, keyed by case id, each with the case's new version.")
    broker.publisher(topics.case_rejections, schema=CommandRejectedEnvelope, title=topics.case_rejections,
                     description="One record per refused command: command id, code and reason.")
    for topic in ingress:
        broker.publisher(Topics.dlq(topic), title=Topics.dlq(topic),
                         description="Records that are not readable commands, as received; the error is in headers.")
    return service


def build(settings: Settings, broker: KafkaBroker | None = None) -> Any:
    """The intake app for `settings` on MongoDB, its read API in front."""
    broker = broker or create_broker(settings)
    client, db = mongo.connect(settings.mongodb_url, settings.database)
    store = MongoCaseStore(db)
    marks, people = PublishedMarks(), FollowedDirectory(MongoPeople(store.people))
    register(broker, settings, store, marks, people)
    relay = OutboxRelay([store.case_outbox, store.refusals.outbox, store.account_outbox, store.person_outbox],
                        Publisher(broker, settings.limits.record_bytes), settings.outbox_sweep_seconds,
                        published=marks.published)
    lifecycles = load_lifecycles()
    reader = MongoCaseReader(db, closed_statuses(lifecycles))
    routes = case_routes(reader, Auth.from_settings(settings, Principals(people)), lifecycles, customers(people))

    async def prepare() -> None:
        await store.ensure_indexes()
        await reader.ensure_indexes()
        await store.seed_accounts([a.model_dump(mode="json") for a in load_seed_accounts().values()])
        await store.seed_people([p.model_dump(mode="json") for p in people.directory.people])
        await people.refresh()  # before the first command: upserts stored before a restart

    # Stopped in reverse after the consumers drained: marks written first, so the relay's last sweep
    # re-sends nothing already on the broker; the store client closes last.
    return create_app(broker, checks={"store": lambda: mongo.ping(client)}, routers=[routes], settings=settings,
                      on_startup=[prepare], background=[relay, marks, people.loop], after_shutdown=[client.close],
                      grace_seconds=settings.shutdown_grace_seconds)


def main() -> None:
    """Entry point of `python -m intake`."""
    run(build, IntakeSettings())


def document(broker: KafkaBroker, settings: Settings) -> None:
    """Register handlers without any store, for the AsyncAPI document."""
    register(broker, settings, store=None, marks=PublishedMarks())  # type: ignore[arg-type]  # no I/O here
