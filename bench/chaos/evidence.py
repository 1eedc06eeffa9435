"""Gathering what the invariants look at: the store (outboxes, deliveries), the mail sink, DLQs, lag, a rebuild."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from portal_sync.adapters.outbound.lifecycles import known_statuses
from portal_sync.core import InvalidEvent, ProjectionState, load_mapping, project, read_facts
from shared.contract.envelope import CloudEvent
from shared.contract.portal import PortalCaseStatus

NOTIFIER_DB_SUFFIX = "_notifier"
READ_TIMEOUT = 60.0


async def store_facts(mongo_urls: list[str], db_prefix: str) -> tuple[int, list[str], dict[str, str], int]:
    """(collections examined, documents with a non-empty outbox, sent Message-IDs -> what, deliveries pending).

    Every store is read: with a store per service each holds one service's database.
    """
    collections, leftovers, sent, pending = 0, [], {}, 0
    for url in mongo_urls:
        n, found, mails, waiting = await _one_store(url, db_prefix)
        collections, pending = collections + n, pending + waiting
        leftovers += found
        sent.update(mails)
    return collections, leftovers, sent, pending


async def _one_store(mongo_url: str, db_prefix: str) -> tuple[int, list[str], dict[str, str], int]:
    client: AsyncMongoClient = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=10000)
    try:
        collections, leftovers, sent, pending = 0, [], {}, 0
        for name in await client.list_database_names():
            if not name.startswith(f"{db_prefix}_"):
                continue
            db = client[name]
            for coll in await db.list_collection_names():
                collections += 1
                # Filtered here rather than with a query operator, so any Mongo-wire server gives the same answer.
                async for doc in db[coll].find({}, {"outbox": 1}):
                    if doc.get("outbox"):
                        leftovers.append(f"{name}.{coll} {doc['_id']}: {len(doc['outbox'])} outbox entries")
            if name.endswith(NOTIFIER_DB_SUFFIX):
                async for d in db["deliveries"].find({}, {"state": 1, "mail.message_id": 1, "event_type": 1,
                                                           "recipient": 1}):
                    if d.get("state") == "sent":
                        sent[d["mail"]["message_id"]] = f"{d.get('event_type')} to {d.get('recipient')}"
                    pending += d.get("state") == "pending"
        return collections, leftovers, sent, pending
    finally:
        await client.close()


def maildir_ids(maildir: Path) -> dict[str, int]:
    """Message-ID -> how many .eml files the SMTP sink kept with it."""
    parser, counts = email.parser.BytesHeaderParser(policy=email.policy.default), {}
    for path in sorted(maildir.glob("*.eml")) if maildir.exists() else []:
        with path.open("rb") as fh:
            message_id = str(parser.parse(fh).get("Message-ID", "")).strip()
        counts[message_id] = counts.get(message_id, 0) + 1
    return counts


def rebuilt_views(case_events: list[dict], mapping_file: str | None) -> dict[str, str]:
    """What portal-sync's own projection code publishes last per case (a digest of the view), replaying `case.events`."""
    mapping, _ = load_mapping(mapping_file, known_statuses())
    states: dict[str, ProjectionState] = {}
    for doc in case_events:
        try:
            facts = read_facts(CloudEvent.model_validate(doc))
        except (InvalidEvent, ValueError):
            continue
        if facts is None:
            continue
        outcome = project(states.get(facts.case_id), facts, mapping, 1)
        if outcome.state is not None:
            states[facts.case_id] = outcome.state
    return {cid: s.published_view for cid, s in states.items() if isinstance(s.published_view, str)}


def topic_views(latest: dict[str, dict | None]) -> dict[str, str | None]:
    """The customer-visible part of the latest record per key of the portal topic (its digest)."""
    return {key: PortalCaseStatus.model_validate(doc["data"]).view_digest() if doc else None
            for key, doc in latest.items()}


async def dead_letters(bootstrap: str, prefix: str, security: dict) -> tuple[int, list[tuple[str, str]]]:
    """(DLQ topics examined, (topic, error) of every record on them), read from the beginning to the end.

    `security`: client options of a principal that may read every dead-letter topic (the admin).
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                                **security)
    await consumer.start()
    try:
        names = [t for t in await consumer.topics() if t.startswith(prefix) and t.endswith(".dlq")]
        parts = [TopicPartition(t, p) for t in names for p in consumer.partitions_for_topic(t) or ()]
        found: list[tuple[str, str]] = []
        if parts:
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            deadline = time.monotonic() + READ_TIMEOUT
            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                if time.monotonic() > deadline:
                    found.append(("(all)", f"could not read the dead-letter topics to their end in {READ_TIMEOUT:.0f}s"))
                    break
                for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                    for r in records:
                        error = dict(r.headers or ()).get("dlq-error", b"?")
                        found.append((tp.topic, error.decode(errors="replace")[:160]))
        return len(names), found
    finally:
        await consumer.stop()


async def consumer_lag(bootstrap: str, group_prefix: str, security: dict) -> dict[str, int]:
    """`group topic[partition]` -> records not yet committed, for every group of the deployment (as the admin)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **security)
    await asyncio.gather(admin.start(), consumer.start())
    try:
        lag: dict[str, int] = {}
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(group_prefix)
                  and not g[0].startswith("probe-")]
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            ends = await consumer.end_offsets(list(committed)) if committed else {}
            for tp, meta in committed.items():
                lag[f"{group} {tp.topic}[{tp.partition}]"] = max(0, ends[tp] - meta.offset)
        return lag
    finally:
        await asyncio.gather(admin.close(), consumer.stop())
