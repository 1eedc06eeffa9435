"""`python -m portal_sync rebuild [--mapping FILE]`: rebuild every projection from `case.events` and switch.

1. Replay `case.events` from the beginning to its current end into a NEW generation, with the mapping given
   (default: PORTAL_MAPPING_FILE, else the packaged one), validated against the shared lifecycles first.
2. Compare each case with what the active generation last published; queue a record where the customer's
   view changes (in the same document write as the case's projection).
3. Switch the pointer document to the new generation (one write: the running service follows at its next write).
4. Catch up on the events that arrived during the replay, then publish the queued records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta

import structlog

from portal_sync.adapters.inbound.event_log import EventLog
from portal_sync.adapters.outbound.lifecycles import known_statuses
from portal_sync.adapters.outbound.mongo_store import MongoProjectionStore
from portal_sync.core import InvalidEvent, MappingError, load_mapping, read_facts
from portal_sync.core.rebuild import carry_forward, compare, fold, rebuild_cause
from portal_sync.ports.store import Generation, ProjectionStore, StoredProjection
from portal_sync.service import ProjectionService, record_limits
from portal_sync.settings import PortalSyncSettings
from shared.contract.envelope import CloudEvent, now_utc
from shared.logging import configure_logging
from shared.runtime import mongo
from shared.runtime.app import create_broker
from shared.runtime.kafka_security import settings_options
# RELAY_GRACE: a record queued longer ago than this was left behind, not in flight
from shared.runtime.outbox import RELAY_GRACE, OutboxEntry, Publisher
from shared.runtime.unit_of_work import Message

SWITCH_GRACE = 1.0
CATCH_UP_BATCH = 200  # events of the catch-up handed to the service at once, as its consumer would
PROGRESS_EVERY = 100  # events between two progress reports

Progress = Callable[[int, int], None]  # (events replayed, events to replay), e.g. the CLI's progress bar


@dataclass
class Report:
    """What a rebuild did."""

    generation: int
    previous_generation: int | None
    mapping_version: int
    events: int
    cases: int
    changed: int
    caught_up: int
    carried_forward: int
    no_longer_shown: int


async def rebuild(settings: PortalSyncSettings, mapping_file: str | None = None,
                  progress: Progress | None = None) -> Report:
    """Build a new generation from the whole event log, switch to it, publish what the customer sees differently.

    `progress(done, total)` is called as the replay goes (every PROGRESS_EVERY events and at its end).
    """
    known = known_statuses()
    mapping, text = load_mapping(mapping_file or settings.portal_mapping_file, known)
    client, db = mongo.connect(settings.mongodb_url, settings.database)
    store, broker = MongoProjectionStore(db), create_broker(settings)
    log = structlog.get_logger().bind(component="rebuild")

    async def skip(event: CloudEvent, error: str) -> None:
        log.warning("rebuild.event_skipped", event_id=event.id, error=error)

    await broker.start()
    try:
        publisher = Publisher(broker, settings.limits.record_bytes)
        service = ProjectionService(store, publisher, settings.topics, skip, known,
                                    limits=record_limits(settings.limits))
        previous = await store.active()
        generation = Generation(await store.new_generation(), text, mapping.version)
        async with EventLog(settings.kafka_bootstrap_servers, settings.topics.case_events,
                            settings_options(settings)) as events:
            end = await events.end()
            states, count, total = {}, 0, await events.count(end)
            async for event in events.read(None, end):
                count += 1
                fold(states, _facts(event), mapping, generation.number, service.limits)
                if progress and count % PROGRESS_EVERY == 0:
                    progress(count, total)
            if progress:  # records the live service dead-lettered are in the total but not replayed
                progress(total, total)
            old = await store.all(previous.number) if previous else {}
            # What a crash left queued is sent before comparing; a record younger than the relay's grace is the
            # live service's in flight (sent, its mark not written yet): sending it too would repeat it.
            left = now_utc() - timedelta(seconds=RELAY_GRACE)
            await _send_queued(store, publisher, previous.number if previous else 0, old, lambda e: e.at < left)
            carried = carry_forward({case_id: s.state for case_id, s in old.items()}, states, mapping,
                                    generation.number)
            items = []
            for case_id, state in states.items():
                state, changed = compare(state, old[case_id].state if case_id in old else None)
                items.append((state, [service.record_entry(state, rebuild_cause(state))] if changed else []))
            await store.insert_many(generation.number, items)
            await store.switch(generation)
            log.info("rebuild.switched", generation=generation.number, previous=previous and previous.number)
            await asyncio.sleep(SWITCH_GRACE)  # events the live service is applying to the old generation land first
            caught_up = await _catch_up(service, events.read(end, await events.end()))
        await service.marks.flush()  # what the catch-up sent is marked, so the last sweep does not send it again
        ours = {e.id for _, entries in items for e in entries}  # not what the live service queued meanwhile
        await _send_queued(store, publisher, generation.number, await store.all(generation.number), lambda e: e.id in ours)
    finally:
        await broker.stop()
        await client.close()
    return Report(generation.number, previous.number if previous else None, mapping.version, count, len(states),
                  sum(1 for _, entries in items if entries), caught_up, carried, len(set(old) - set(states)))


async def _catch_up(service: ProjectionService, events) -> int:  # noqa: ANN001
    """What the live service saw during the replay, through the service in batches; how many case events."""
    caught_up, batch = 0, []
    async for event in events:
        batch.append(Message(event))
        if len(batch) >= CATCH_UP_BATCH:
            caught_up += _counted(await service.handle_many(batch))
            batch = []
    if batch:
        caught_up += _counted(await service.handle_many(batch))
    return caught_up


def _counted(outcomes: list[str]) -> int:
    return sum(1 for outcome in outcomes if outcome not in ("invalid", "not_a_case_event"))


async def _send_queued(store: ProjectionStore, publisher: Publisher, generation: int,
                       cases: dict[str, StoredProjection], which: Callable[[OutboxEntry], bool]) -> None:
    """Publish the `which` queued records of a generation together (in order per case), then mark them in one bulk."""
    queued = {case_id: [e for e in stored.outbox if which(e)] for case_id, stored in cases.items()}
    queued = {case_id: entries for case_id, entries in queued.items() if entries}
    if queued:
        await publisher.publish_many([e for entries in queued.values() for e in entries])
        await store.outbox(generation).mark_published_many({k: [e.id for e in v] for k, v in queued.items()})


def _facts(event: CloudEvent) -> list:
    try:
        found = read_facts(event)
    except InvalidEvent:  # the live service dead-lettered it already
        return []
    return [] if found is None else [found]


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; prints the report as JSON; exit 2 when the mapping is refused."""
    parser = argparse.ArgumentParser(prog="python -m portal_sync rebuild", description=__doc__.splitlines()[0])
    parser.add_argument("--mapping", help="mapping YAML to rebuild with (default: PORTAL_MAPPING_FILE or packaged)")
    args = parser.parse_args(argv)
    settings = PortalSyncSettings(service_name="portal-sync")
    configure_logging(settings.service_name, settings.log_level)
    try:
        report = asyncio.run(rebuild(settings, args.mapping))
    except MappingError as exc:
        print(f"mapping refused: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(report)))
    return 0
