"""Wires portal-sync: settings → store, broker, projection service, relay, HTTP routes."""

from __future__ import annotations

from typing import Any

import structlog
from faststream.kafka import KafkaBroker

from portal_sync.adapters.inbound.http import portal_routes
from portal_sync.adapters.outbound.lifecycles import known_statuses
from portal_sync.adapters.outbound.mongo_store import ActiveOutbox, MongoProjectionStore
from portal_sync.core import load_mapping
from portal_sync.adapters.inbound.messages import CustomerMessages
from portal_sync.ports.store import ProjectionStore
from portal_sync.service import DeadLetter, ProjectionService, record_limits
from portal_sync.settings import PortalSyncSettings
from shared.contract import catalog
from shared.contract.envelope import CloudEvent
from shared.contract.portal import PortalCaseStatusEnvelope
from shared.auth import Auth
from shared.auth.principal import Principals
from shared.runtime import mongo
from shared.runtime.app import create_app, create_broker, run
from shared.runtime.consumer import subscribe
from shared.runtime.inbound import dead_letter_headers
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxRelay, Publisher
from shared.runtime.people import FollowedDirectory, MongoPeople
from shared.runtime.people_batch import following_many
from shared.settings import Settings, Topics


def dead_letterer(broker: KafkaBroker, topic: str) -> DeadLetter:
    """A readable event we cannot project goes to `<topic>.dlq` as received, the reason in headers."""

    async def dead_letter(event: CloudEvent, error: str) -> None:
        await broker.publish(event.to_bytes(), topic=Topics.dlq(topic), key=(event.subject or "").encode(),
                             headers=dead_letter_headers(error, topic, -1, -1))
        structlog.get_logger().warning("event.dead_lettered", error=error, event_id=event.id)

    return dead_letter


PRINCIPAL = "portal-sync"  # its Kafka principal: relays customers' portal messages as them


def register(broker: KafkaBroker, settings: Settings, store: ProjectionStore,
             known: dict[str, set[str]] | None = None, people: FollowedDirectory | None = None,
             marks: PublishedMarks | None = None) -> ProjectionService:
    """Subscribe to case events and declare the portal topic; returns the service."""
    people = people or FollowedDirectory()
    topics = settings.topics
    publisher = Publisher(broker, settings.limits.record_bytes)
    service = ProjectionService(store, publisher, topics, dead_letterer(broker, topics.case_events), known, marks,
                                record_limits(settings.limits))
    subscribe(broker, topics.case_events, settings.group_id, people.following(service.handle),
              many=following_many(people, service.handle_many), limits=settings.limits, schema=catalog.EventEnvelope,
              description="Case facts; each portal case type's status is projected to what the customer sees.")
    broker.publisher(topics.portal_case_status, schema=PortalCaseStatusEnvelope, title=topics.portal_case_status,
                     description="Compacted, key = case id: the portal's view of a case (status, subject, dates, "
                                 "messages, quote and order status), published when it changes.")
    sent = topics.sent_by(PRINCIPAL).case_commands  # its own ingress topic: ACLs allow it no other
    broker.publisher(sent, schema=catalog.CommandEnvelope, title=sent,
                     description="`case.add_customer_message` for messages customers post in the portal.")
    broker.publisher(Topics.dlq(topics.case_events), title=Topics.dlq(topics.case_events),
                     description="Case events that cannot be projected (invalid data, unmapped status), the reason in headers.")
    return service


def build(settings: PortalSyncSettings, broker: KafkaBroker | None = None) -> Any:
    """The portal-sync app for `settings` on MongoDB."""
    broker = broker or create_broker(settings)
    known = known_statuses()
    mapping, mapping_text = load_mapping(settings.portal_mapping_file, known)  # a bad mapping stops the start
    client, db = mongo.connect(settings.mongodb_url, settings.database)
    store, people = MongoProjectionStore(db), FollowedDirectory(MongoPeople(db["directory_people"]))
    publisher, marks = Publisher(broker, settings.limits.record_bytes), PublishedMarks()
    register(broker, settings, store, known, people, marks)
    relay = OutboxRelay([ActiveOutbox(store)], publisher, settings.outbox_sweep_seconds, published=marks.published)
    log = structlog.get_logger()

    async def prepare() -> None:
        await people.refresh()  # the people upserted before a restart (who may read what over HTTP)
        active = await store.activate_first(mapping_text, mapping.version)
        if active.mapping_version != mapping.version:
            log.warning("mapping.not_active", configured=mapping.version, active=active.mapping_version,
                        hint="run python -m portal_sync rebuild to apply the configured mapping")

    routes = portal_routes(store, CustomerMessages(store, publisher, settings.topics.sent_by(PRINCIPAL)),
                           Auth.from_settings(settings, Principals(people)))
    # Stopped in reverse after the consumers drained: marks written first, so the relay's last sweep
    # re-sends nothing already on the broker; the store client closes last.
    return create_app(broker, checks={"store": lambda: mongo.ping(client)}, routers=[routes], settings=settings,
                      on_startup=[prepare], background=[relay, marks, people.loop], after_shutdown=[client.close],
                      grace_seconds=settings.shutdown_grace_seconds)


def main() -> None:
    """Entry point of `python -m portal_sync`."""
    run(build, PortalSyncSettings(service_name="portal-sync"))


def document(broker: KafkaBroker, settings: Settings) -> None:
    """Register handlers without any store, for the AsyncAPI document."""
    register(broker, settings, store=None)  # type: ignore[arg-type]  # nothing is called at registration
