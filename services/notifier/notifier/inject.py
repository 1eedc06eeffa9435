"""Wires the notifier: settings → store, SMTP sender, broker, service, dispatcher, relay, app."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker

from notifier.adapters.inbound.http import deliveries_routes
from notifier.adapters.outbound.mongo_store import MongoNotifierStore
from notifier.adapters.outbound.smtp_sender import SmtpSender
from notifier.core.render import Renderer
from notifier.core.subscriptions import load_subscriptions
from notifier.adapters.inbound.dispatcher import Dispatcher, RetryPolicy
from notifier.ports.sender import MailSender
from notifier.ports.store import NotifierStore
from notifier.service import Links, NotifierService
from notifier.settings import NotifierSettings
from shared.auth import Auth
from shared.auth.principal import Principals
from shared.contract import catalog
from shared.contract.notification import NotificationEnvelope
from shared.runtime import mongo
from shared.runtime.app import create_app, create_broker, run
from shared.runtime.consumer import subscribe
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxRelay, Publisher
from shared.runtime.people import FollowedDirectory, MongoPeople
from shared.runtime.people_batch import following_many
from shared.settings import Topics


def policy_of(settings: NotifierSettings) -> RetryPolicy:
    """Retry policy from settings."""
    return RetryPolicy(max_attempts=settings.notify_max_attempts, base_seconds=settings.notify_retry_base_seconds,
                       max_seconds=settings.notify_retry_max_seconds, lease_seconds=settings.notify_lease_seconds,
                       concurrency=settings.notify_concurrency, sweep_seconds=settings.notify_sweep_seconds)


def register(broker: KafkaBroker, settings: NotifierSettings, store: NotifierStore, sender: MailSender,
             marks: PublishedMarks, people: FollowedDirectory | None = None) -> tuple[NotifierService, Dispatcher]:
    """Subscribe the notifier to case, approval and routing events and declare what it publishes."""
    people = people or FollowedDirectory()
    topics, publisher, renderer = settings.topics, Publisher(broker, settings.limits.record_bytes), Renderer()
    subs = load_subscriptions(settings.subscriptions_file, renderer.names())
    dispatcher = Dispatcher(store, sender, publisher, topics, policy_of(settings), marks)
    # Planned deliveries are inserted leased to this dispatcher and handed to it as soon as they are stored.
    service = NotifierService(store, publisher, topics, subs, renderer, people.directory,
                              Links(settings.case_links, settings.mail_domain, settings.approval_links), marks,
                              lease_until=dispatcher.lease_until)
    if store is not None:  # None only when documenting
        store.handoff = dispatcher.hand_off
    subscribe(broker, topics.case_events, settings.group_id, people.following(service.handle),
              many=following_many(people, service.handle_many), limits=settings.limits, schema=catalog.EventEnvelope,
              description="Case facts: keep the case file (requester, assignee, team) and notify subscribers.")
    subscribe(broker, topics.approval_events, settings.group_id, many=service.handle_many, limits=settings.limits,
              description="Approval steps requested, decided, reminded and escalated: notify approvers.")
    subscribe(broker, topics.routing_events, settings.group_id, many=service.handle_many, limits=settings.limits,
              description="Overdue cases (timeframe.reminded, timeframe.escalated): notify the assignee, then "
                          "the manager or queue owner.")
    broker.publisher(topics.notification_events, schema=NotificationEnvelope, title=topics.notification_events,
                     description="One record per delivery outcome: notification.sent, .failed or .skipped "
                                 "(shared/contract/notification.py), keyed by case id.")
    broker.publisher(Topics.dlq(topics.notification_events), schema=NotificationEnvelope, title=Topics.dlq(topics.notification_events),
                     description="Deliveries given up (notification.failed), for someone to look at.")
    return service, dispatcher


def build(settings: NotifierSettings, broker: KafkaBroker | None = None) -> Any:
    """The notifier app for `settings` on MongoDB and SMTP."""
    broker = broker or create_broker(settings)
    client, db = mongo.connect(settings.mongodb_url, settings.database)
    store, people = MongoNotifierStore(db), FollowedDirectory(MongoPeople(db["directory_people"]))
    # Kept connections, as many as the dispatcher sends at once; closed after it has stopped (after_shutdown).
    sender = SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_timeout_seconds,
                        pool_size=settings.notify_concurrency)
    marks = PublishedMarks()
    _, dispatcher = register(broker, settings, store, sender, marks, people)
    # A slow safety sweep: the service and the dispatcher publish their own events and mark them in bulk.
    relay = OutboxRelay([store.outbox, store.delivery_outbox], Publisher(broker, settings.limits.record_bytes),
                        settings.outbox_sweep_seconds, published=marks.published)

    async def prepare() -> None:
        await store.ensure_indexes()
        await people.refresh()  # the people upserted before a restart

    # SMTP is not a health check: while it is down the notifier keeps accepting work and retries.
    # The relay starts first (a crash's leftovers) and stops last, after the dispatcher's outcomes; the marks
    # stop before it, so its last sweep finds only what was never published.
    return create_app(broker, checks={"store": lambda: mongo.ping(client)}, settings=settings,
                      routers=[deliveries_routes(store, Auth.from_settings(settings, Principals(people)))],
                      on_startup=[prepare], background=[relay, marks, dispatcher, people.loop],
                      after_shutdown=[sender.close, client.close],
                      grace_seconds=settings.shutdown_grace_seconds)


def main() -> None:
    """Entry point of `python -m notifier`."""
    run(build, NotifierSettings(service_name="notifier"))


def document(broker: KafkaBroker, settings: NotifierSettings) -> None:
    """Register handlers without any store or SMTP, for the AsyncAPI document."""
    register(broker, NotifierSettings(**settings.model_dump()), store=None, sender=None,  # type: ignore[arg-type]
             marks=PublishedMarks())
