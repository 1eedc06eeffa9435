"""portal-sync's service layer: project each case event in the active generation, store and publish once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from portal_sync.core import CaseFacts, InvalidEvent, PortalMapping, ProjectionState, parse_mapping, project, read_facts
from portal_sync.ports.store import Generation, ProjectionStore
from shared.contract.envelope import CloudEvent, derived_id, new_event
from shared.contract.portal import PORTAL_STATUS_TYPE
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.settings import Topics

SOURCE = "/services/portal-sync"
MAX_ATTEMPTS = 20
DeadLetter = Callable[[CloudEvent, str], Awaitable[None]]


class ConcurrentWriteError(RuntimeError):
    """The projection kept changing under us (a rebuild catching up); redelivery retries."""


class ProjectionService:
    """Consumes case events; one call per event; safe to call again with the same event."""

    def __init__(self, store: ProjectionStore, publisher: Publisher, topics: Topics, dead_letter: DeadLetter,
                 known: dict[str, set[str]] | None = None) -> None:
        self._store, self._publisher, self._topics = store, publisher, topics
        self._dead_letter, self._known = dead_letter, known
        self._mappings: dict[int, PortalMapping] = {}

    async def handle(self, event: CloudEvent) -> str:
        """Project one event into the active generation; returns an outcome label."""
        try:
            facts = read_facts(event)
        except InvalidEvent as exc:
            await self._dead_letter(event, str(exc))
            return "invalid"
        if facts is None:
            return "not_a_case_event"
        generation = await self._store.active()
        if generation is None:
            raise RuntimeError("no active projection generation (the service prepares one at startup)")
        return await self.apply(generation, self.mapping_of(generation), facts, event)

    def mapping_of(self, generation: Generation) -> PortalMapping:
        """The mapping a generation was built with (parsed once)."""
        if generation.number not in self._mappings:
            self._mappings[generation.number] = parse_mapping(generation.mapping_text, self._known,
                                                              where=f"generation {generation.number}")
        return self._mappings[generation.number]

    async def apply(self, generation: Generation, mapping: PortalMapping, facts: CaseFacts,
                    cause: CloudEvent | None = None) -> str:
        """Project `facts` into `generation`: state and record in one write, then publish and mark."""
        for _ in range(MAX_ATTEMPTS):
            stored = await self._store.get(generation.number, facts.case_id)
            outcome = project(stored.state if stored else None, facts, mapping, generation.number)
            if outcome.label == "unmapped_status" and cause is not None:
                await self._dead_letter(cause, f"status '{facts.status}' of {facts.case_type} has no portal status "
                                               f"in mapping version {mapping.version}")
            if outcome.state is None:
                if stored:  # finish what a crash interrupted
                    await self.flush(generation.number, facts.case_id, stored.outbox)
                return outcome.label
            entries = [self.record_entry(outcome.state, facts.event_id, cause)] if outcome.publish else []
            if await self._store.save(generation.number, outcome.state, stored.rev if stored else None, entries):
                current = await self._store.active()
                if current is not None and current.number != generation.number:
                    # A rebuild switched meanwhile: its generation (and mapping) decides what the customer sees,
                    # so this record, computed for the old one, is never published.
                    return await self.apply(current, self.mapping_of(current), facts, cause)
                await self.flush(generation.number, facts.case_id, (stored.outbox if stored else []) + entries)
                return outcome.label
        raise ConcurrentWriteError(f"case {facts.case_id} changed {MAX_ATTEMPTS} times while applying {facts.event_id}")

    def record_entry(self, state: ProjectionState, cause_id: str, cause: CloudEvent | None = None) -> OutboxEntry:
        """The `portal.case-status` record of a state; its id derives from the cause, so a replay repeats it."""
        record = state.record
        event = new_event(PORTAL_STATUS_TYPE, record.case_id, record, source=SOURCE,
                          id_=derived_id(cause_id, f"portal-g{record.generation}"), cause=cause)
        return OutboxEntry.of(self._topics.portal_case_status, event)

    async def flush(self, generation: int, case_id: str, entries: list[OutboxEntry]) -> None:
        """Publish then mark; a crash in between republishes the same ids, never loses one."""
        if entries:
            await self._publisher.publish(entries)
            await self._store.mark_published(generation, case_id, [e.id for e in entries])
