"""Wires approval: settings → store, rules, broker, handlers, scheduler, relay, HTTP routes, app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from faststream.kafka import KafkaBroker

from approval.adapters.contract_docs import APPROVAL_COMMAND_ENVELOPE, APPROVAL_EVENT_ENVELOPE, RECORD_APPROVAL_ENVELOPE
from approval.adapters.inbound.http import approval_routes
from approval.adapters.inbound.scheduler import Scheduler
from approval.adapters.inbound.waiting import waiting_routes
from approval.adapters.outbound.mongo_store import MongoApprovalStore
from approval.core import Csrf, Linker, RuleBook, approval_steps, load_rule_file
from approval.core.content import Bounds
from approval.ports.store import ApprovalStore
from approval.service import ApprovalService
from approval.settings import ApprovalSettings, link_secret_problem
from shared.auth import Auth
from shared.auth.principal import Principals
from shared.contract.catalog import CommandRejectedEnvelope, EventEnvelope
from shared.lifecycles import load_lifecycles
from shared.runtime import mongo
from shared.runtime.app import create_app, create_broker, run
from shared.runtime.consumer import subscribe
from shared.runtime.marks import PublishedMarks
from shared.runtime.people import FollowedDirectory, MongoPeople
from shared.runtime.outbox import OutboxRelay, Publisher
from shared.settings import Settings, Topics


DEFAULT_TTL = timedelta(days=14)
PRINCIPAL = "approval"  # its Kafka principal: the ingress topics it writes, the actor it may speak for


@dataclass
class Approval:
    """The wired service and its scheduler."""

    service: ApprovalService
    scheduler: Scheduler


def rule_book(settings: Settings, people: FollowedDirectory) -> RuleBook:
    """Rules from the packaged file (or APPROVAL_RULES_FILE), checked against the shared lifecycles."""
    path = getattr(settings, "approval_rules_file", None)
    return RuleBook(load_rule_file(path), approval_steps(load_lifecycles()), people.directory)


def register(broker: KafkaBroker, settings: Settings, store: ApprovalStore, marks: PublishedMarks | None = None,
             people: FollowedDirectory | None = None) -> Approval:
    """Subscribe to case events and approval commands, declare what is published; returns the service."""
    people = people or FollowedDirectory()
    # What approval writes goes to its own ingress topics (`case.commands.approval`): ACLs allow it nothing else.
    topics = settings.topics.sent_by(PRINCIPAL)
    linker = Linker(settings.link_secret, settings.public_base_url, ttl=getattr(settings, "link_ttl", DEFAULT_TTL))
    publisher = Publisher(broker, settings.limits.record_bytes)
    service = ApprovalService(store, publisher, topics, rule_book(settings, people), linker, marks or PublishedMarks(),
                              people=people, bounds=Bounds(settings.limits.text_chars, settings.limits.list_items))
    scheduler = Scheduler(service, getattr(settings, "approval_scheduler_seconds", 30.0))
    subscribe(broker, topics.case_events, settings.group_id, many=service.handle_events,
              limits=settings.limits, schema=EventEnvelope,
              description="Case facts; status changes into a status with an approval step open that step; "
                          "person.upserted keeps the people directory current.")
    ingress = settings.topics.ingress("approval_commands")
    subscribe(broker, ingress, settings.group_id, on_malformed=service.refuse_malformed, many=service.handle_commands,
              limits=settings.limits, schema=APPROVAL_COMMAND_ENVELOPE,
              description="Decisions, delegations, recalls, reassignments, absences and rule-set replacements.")
    broker.publisher(topics.approval_events, schema=APPROVAL_EVENT_ENVELOPE, title=topics.approval_events,
                     description="Approval facts keyed by case id: requested (one per approver), decided, reminders...")
    broker.publisher(topics.case_commands, schema=RECORD_APPROVAL_ENVELOPE, title=topics.case_commands,
                     description="case.record_approval for intake when a step's rule is satisfied (actor system:approval).")
    broker.publisher(topics.case_rejections, schema=CommandRejectedEnvelope, title=topics.case_rejections,
                     description="One record per refused approval command, with code and reason.")
    for topic in ingress:
        broker.publisher(Topics.dlq(topic), title=Topics.dlq(topic),
                         description="Records that are not readable commands, as received.")
    return Approval(service, scheduler)


def build(settings: ApprovalSettings, broker: KafkaBroker | None = None) -> Any:
    """The approval app on MongoDB; refuses to start with a default or short link secret outside dev mode."""
    problem = link_secret_problem(settings)
    if problem:
        raise UnsafeLinkSecret(problem)
    broker = broker or create_broker(settings)
    client, db = mongo.connect(settings.mongodb_url, settings.database)
    store, people = MongoApprovalStore(db), FollowedDirectory(MongoPeople(db["directory_people"]))
    marks = PublishedMarks()
    approval = register(broker, settings, store, marks, people)
    relay = OutboxRelay(store.outboxes, Publisher(broker, settings.limits.record_bytes), settings.outbox_sweep_seconds,
                        published=marks.published)

    async def prepare() -> None:
        await store.ensure_indexes()
        await people.refresh()  # the people upserted before a restart
        await approval.service.refresh_rules()  # a newer set accepted before a restart stays in force

    csrf = Csrf(settings.link_secret, timedelta(minutes=settings.link_csrf_minutes))
    routes = approval_routes(store, approval.service.linker, csrf, broker, settings.topics.sent_by(PRINCIPAL),
                             case_links=settings.case_links)
    # Before the link routes: /approvals/waiting is not a token.
    waiting = waiting_routes(store, approval.service.linker, Auth.from_settings(settings, Principals(people)))
    app = create_app(broker, checks={"store": lambda: mongo.ping(client)}, routers=[waiting, routes], settings=settings,
                     on_startup=[prepare],
                     # relay first: a crash's leftovers; stopped last, after the marks were written
                     background=[relay, marks, approval.scheduler, people.loop],
                     after_shutdown=[client.close], grace_seconds=settings.shutdown_grace_seconds)
    getattr(app, "streams", app).context.set_global("approval_service", approval)
    return app


class UnsafeLinkSecret(RuntimeError):
    """The link secret would let anyone forge approval links; the service does not start."""


def main() -> None:
    """Entry point of `python -m approval`: exits with the reason when the link secret is unsafe."""
    settings = ApprovalSettings(service_name="approval")
    try:
        run(build, settings)
    except UnsafeLinkSecret as exc:
        structlog.get_logger().error("approval.unsafe_link_secret", reason=str(exc))
        raise SystemExit(f"approval: refusing to start: {exc}") from None


def document(broker: KafkaBroker, settings: Settings) -> None:
    """Register handlers without any store, for the AsyncAPI document."""
    register(broker, settings, store=None)  # type: ignore[arg-type]  # nothing is called at registration
