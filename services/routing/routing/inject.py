"""Wires routing: settings → store, rules, broker, services, subscribers, relay, HTTP read models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from faststream.kafka import KafkaBroker

from routing.adapters.inbound.http import read_routes
from routing.adapters.inbound.commands import RoutingCommands
from routing.adapters.outbound.cached import Caches
from routing.adapters.outbound.mongo_store import MongoRoutingStore
from routing.core.rules import load_rule_file
from routing.ports.store import RoutingStore
from routing.core.timeframes import load_time_frames
from routing.service import RoutingService
from routing.timers import CaseTimers
from routing.settings import RoutingSettings
from shared.contract import catalog
from shared.calendars import load_calendars
from shared.contract.catalog import CommandRejectedEnvelope
from shared.contract.envelope import now_utc
from shared.contract.timeframes import TimeframeEnvelope
from shared.directory import Directory
from shared.auth import Auth
from shared.auth.principal import Principals
from shared.lifecycles import load_lifecycles
from shared.runtime import mongo
from shared.runtime.app import create_app, create_broker, run
from shared.runtime.consumer import subscribe
from shared.runtime.create_topics import COLD_PARTITIONS, TopicSpec, ensure_settings_topics
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxRelay, Publisher
from shared.runtime.people import FollowedDirectory, MongoPeople
from shared.settings import Settings, Topics


PRINCIPAL = "routing"  # its Kafka principal: the ingress topics it writes, the actor it may speak for


def register(broker: KafkaBroker, settings: Settings, store: RoutingStore, people: FollowedDirectory | None = None,
             marks: PublishedMarks | None = None,
             clock: Callable[[], datetime] = now_utc) -> tuple[RoutingService, RoutingCommands, Caches]:
    """Subscribe routing to case.events and routing.commands, declare what it publishes."""
    settings = RoutingSettings.of(settings)
    # What routing writes goes to its own ingress topics (`case.commands.routing`): ACLs allow it nothing else.
    people, marks = people or FollowedDirectory(), marks or PublishedMarks()
    topics, directory, lcs = settings.topics.sent_by(PRINCIPAL), people.directory, load_lifecycles()
    caches = Caches(store, directory, lcs)
    publisher = Publisher(broker, settings.limits.record_bytes)
    # Invalid time-frames or calendars stop the start: loud, not silent.
    frames = load_time_frames(directory, set(lcs), settings.time_frames_file)
    timers = CaseTimers(store, frames, load_calendars(settings.calendars_file), directory, topics.routing_events,
                        clock, settings.routing_timer_seconds)
    service = RoutingService(store, publisher, topics, caches, directory, lcs, marks, people=people.following,
                             clock=clock, timers=timers)
    commands = RoutingCommands(store, publisher, topics, caches, directory, lcs, marks)
    subscribe(broker, topics.case_events, settings.group_id, many=service.handle_many,
              limits=settings.limits, schema=catalog.EventEnvelope,
              description="Case facts: routing keeps its case views and routes at opening and on status changes.")
    ingress = settings.topics.ingress("routing_commands")
    subscribe(broker, ingress, settings.group_id, on_malformed=commands.refuse_malformed, many=commands.handle_many,
              limits=settings.limits,
              description="Routing's own commands: rules.upsert (data: actor, rules) and routing.handover "
                          "(data: actor, from_person, to_person, case_types?, comment?).")
    broker.publisher(topics.case_commands, title=topics.case_commands, schema=catalog.CommandEnvelope,
                     description="case.assign and case.add_team_member sent to intake as system:routing.")
    broker.publisher(topics.case_rejections, schema=CommandRejectedEnvelope, title=topics.case_rejections,
                     description="One record per refused routing command.")
    broker.publisher(topics.routing_events, schema=TimeframeEnvelope, title=topics.routing_events,
                     description="timeframe.reminded / timeframe.escalated: an open case passed its due time "
                                 "(shared/contract/timeframes.py), keyed by case id.")
    for topic in (topics.case_events, *ingress):
        broker.publisher(Topics.dlq(topic), title=Topics.dlq(topic), description="Unreadable records, as received.")
    return service, commands, caches


async def put_file_rules_in_force(store: RoutingStore, directory: Directory, path: str | None) -> None:
    """The rule file goes in force when the store has none or an older version (a newer upsert stays)."""
    from_file = load_rule_file(directory, path)  # an invalid file stops the start: loud, not silent
    current = await store.rules()
    if current is None or current["version"] < from_file.version:
        await store.save_rules(from_file.model_dump(mode="json"), current["version"] if current else None)


def build(settings: RoutingSettings, broker: KafkaBroker | None = None) -> Any:
    """The routing app for `settings` on MongoDB."""
    broker = broker or create_broker(settings)
    client, db = mongo.connect(settings.mongodb_url, settings.database)
    store, people = MongoRoutingStore(db), FollowedDirectory(MongoPeople(db["directory_people"]))
    directory, marks = people.directory, PublishedMarks()
    service, _, caches = register(broker, settings, store, people, marks)
    relay = OutboxRelay([store.case_outbox, store.command_outbox_store, store.refusals.outbox],
                        Publisher(broker, settings.limits.record_bytes), settings.outbox_sweep_seconds,
                        published=marks.published)

    async def prepare() -> None:
        # Normally made by create_topics; a stack from before routing had its topics gets them here.
        ingress = settings.topics.ingress("routing_commands")
        await ensure_settings_topics(settings, [TopicSpec(name, COLD_PARTITIONS) for topic in
                                                (*ingress, settings.topics.routing_events)
                                                for name in (topic, Topics.dlq(topic))])
        await store.ensure_indexes()
        await people.refresh()  # the people upserted before a restart
        await put_file_rules_in_force(store, directory, settings.routing_rules_file)
        await caches.refresh()  # rules, account owners and open-load counters before the first event

    routes = read_routes(store, caches.rules, directory, Auth.from_settings(settings, Principals(people)))
    # Stopped in reverse after the consumers drained: marks written before the relay's last sweep.
    return create_app(broker, checks={"store": lambda: mongo.ping(client)}, routers=[routes], settings=settings,
                      on_startup=[prepare], background=[relay, marks, people.loop, caches.loop, service.timers.loop],
                      after_shutdown=[client.close],
                      grace_seconds=settings.shutdown_grace_seconds)


def main() -> None:
    """Entry point of `python -m routing`."""
    run(build, RoutingSettings(service_name="routing"))


def document(broker: KafkaBroker, settings: Settings) -> None:
    """Register handlers without any store, for the AsyncAPI document."""
    register(broker, settings, store=None)  # type: ignore[arg-type]  # nothing is called at registration
