"""`python -m portal_sync.rebuild [--mapping FILE]`: rebuild every projection from `case.events` and switch.

1. Replay `case.events` from the beginning to its current end into a NEW generation, with the mapping given
   (default: PORTAL_MAPPING_FILE, else the packaged one), validated against intake's lifecycles first.
2. Compare each case with what the active generation last published; queue a record where the customer's
   view changes (in the same document write as the case's projection).
3. Switch the pointer document to the new generation (one write: the running service follows at its next event).
4. Catch up on the events that arrived during the replay, then publish the queued records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict, dataclass

import structlog

from portal_sync.adapters.inbound.event_log import EventLog
from portal_sync.adapters.outbound.lifecycles import known_statuses
from portal_sync.adapters.outbound.mongo_store import MongoProjectionStore
from portal_sync.core import (CaseFacts, InvalidEvent, MappingError, PortalMapping, ProjectionState, load_mapping,
                              project, read_facts)
from portal_sync.ports.store import Generation, StoredProjection
from portal_sync.service import ProjectionService
from portal_sync.settings import PortalSyncSettings
from shared.contract.envelope import CloudEvent
from shared.logging import configure_logging
from shared.runtime import mongo
from shared.runtime.app import create_broker
from shared.runtime.kafka_security import settings_options
from shared.runtime.outbox import OutboxEntry, Publisher

SWITCH_GRACE = 1.0


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


async def rebuild(settings: PortalSyncSettings, mapping_file: str | None = None) -> Report:
    """Build a new generation from the whole event log, switch to it, publish what the customer sees differently."""
    known = known_statuses()
    mapping, text = load_mapping(mapping_file or settings.portal_mapping_file, known)
    client, db = mongo.connect(settings.mongodb_url, settings.database)
    store, broker = MongoProjectionStore(db), create_broker(settings)
    log = structlog.get_logger().bind(component="rebuild")

    async def skip(event: CloudEvent, error: str) -> None:
        log.warning("rebuild.event_skipped", event_id=event.id, error=error)

    await broker.start()
    try:
        service = ProjectionService(store, Publisher(broker), settings.topics, skip, known)
        previous = await store.active()
        generation = Generation(await store.new_generation(), text, mapping.version)
        async with EventLog(settings.kafka_bootstrap_servers, settings.topics.case_events,
                            settings_options(settings)) as events:
            end = await events.end()
            states, count = await _replay(events.read(None, end), mapping, generation.number)
            old = await store.all(previous.number) if previous else {}
            for case_id, stored in old.items():  # what the customer was queued to see is what they see
                await service.flush(previous.number, case_id, stored.outbox)  # type: ignore[union-attr]
            carried = _carry_forward(old, states, mapping, generation.number)
            items = [_compare(service, state, old.get(case_id).state if case_id in old else None)
                     for case_id, state in states.items()]
            await store.insert_many(generation.number, items)
            await store.switch(generation)
            log.info("rebuild.switched", generation=generation.number, previous=previous and previous.number)
            await asyncio.sleep(SWITCH_GRACE)  # events the live service is applying to the old generation land first
            caught_up = 0
            async for event in events.read(end, await events.end()):  # what the live service saw meanwhile
                facts = _facts(event)
                if facts is not None:
                    await service.apply(generation, mapping, facts, event)
                    caught_up += 1
        for case_id, stored in (await store.all(generation.number)).items():
            await service.flush(generation.number, case_id, stored.outbox)
    finally:
        await broker.stop()
        await client.close()
    return Report(generation.number, previous.number if previous else None, mapping.version, count, len(states),
                  sum(1 for _, entries in items if entries), caught_up, carried, len(set(old) - set(states)))


async def _replay(events, mapping, generation: int) -> tuple[dict[str, ProjectionState], int]:  # noqa: ANN001
    states: dict[str, ProjectionState] = {}
    count = 0
    async for event in events:
        count += 1
        facts = _facts(event)
        if facts is None:
            continue
        outcome = project(states.get(facts.case_id), facts, mapping, generation)
        if outcome.state is not None:
            states[facts.case_id] = outcome.state
    return states, count


def _carry_forward(old: dict[str, StoredProjection], states: dict[str, ProjectionState], mapping: PortalMapping,
                   generation: int) -> int:
    """Cases whose events the log no longer holds (retention) are re-mapped from their stored internal status."""
    carried = 0
    for case_id, stored in old.items():
        if case_id in states:
            continue
        was = stored.state.record
        facts = CaseFacts(f"carried:{case_id}@{was.version}", "carried", case_id, was.case_type, was.account_id,
                          stored.state.status, was.version, was.changed_at, closure_reason=was.closure_reason,
                          duplicate_of=was.duplicate_of)
        outcome = project(None, facts, mapping, generation)
        if outcome.state is not None:
            states[case_id] = outcome.state
            carried += 1
    return carried


def _facts(event: CloudEvent):  # noqa: ANN202
    try:
        return read_facts(event)
    except InvalidEvent:  # the live service dead-lettered it already
        return None


def _compare(service: ProjectionService, state: ProjectionState,
             old: ProjectionState | None) -> tuple[ProjectionState, list[OutboxEntry]]:
    """The new state, with a record queued when its view differs from what the customer was last sent."""
    state = state.model_copy(update={"published_view": old.published_view if old else None})
    if state.holding or not state.view_changed():
        return state, []
    state = state.model_copy(update={"published_view": list(state.record.view())})
    cause = f"rebuild:{state.record.case_id}@{state.record.version}"
    return state, [service.record_entry(state, cause)]


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; prints the report as JSON; exit 2 when the mapping is refused."""
    parser = argparse.ArgumentParser(prog="python -m portal_sync.rebuild", description=__doc__.splitlines()[0])
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


if __name__ == "__main__":
    sys.exit(main())
