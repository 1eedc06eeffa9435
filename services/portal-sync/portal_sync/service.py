"""portal-sync's service layer: case events in batches through the shared unit of work, in the active generation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from portal_sync.adapters.outbound.active_generation import ActiveGeneration
from portal_sync.core import CaseFacts, InvalidEvent, PortalMapping, ProjectionState, parse_mapping, project, read_facts
from portal_sync.core.content import RecordLimits
from portal_sync.ports.store import Generation, ProjectionStore
from shared.contract.envelope import CloudEvent, derived_id, new_event
from shared.contract.portal import PORTAL_STATUS_TYPE
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.runtime.unit_of_work import Message, Step, UnitOfWork
from shared.settings import Limits, Topics

SOURCE = "/services/portal-sync"
DeadLetter = Callable[[CloudEvent, str], Awaitable[None]]


def record_limits(limits: Limits) -> RecordLimits:
    """Each message text within `text_chars`; the messages a quarter of `record_bytes` at most (room for the rest)."""
    return RecordLimits(text_chars=limits.text_chars, messages_bytes=limits.record_bytes // 4)


@dataclass(frozen=True)
class CaseMessage(Message):
    """A case event with its facts read once; its aggregate is the case the data names."""

    facts: CaseFacts | None = None

    @property
    def key(self) -> str:
        """The case id of the data (intake keys and subjects its events by it, too)."""
        return self.facts.case_id if self.facts else super().key


class ProjectionService:
    """Consumes case events, a batch at a time; safe to call again with the same events."""

    def __init__(self, store: ProjectionStore, publisher: Publisher, topics: Topics, dead_letter: DeadLetter,
                 known: dict[str, set[str]] | None = None, marks: PublishedMarks | None = None,
                 limits: RecordLimits | None = None) -> None:
        self._topics, self._dead_letter, self._known = topics, dead_letter, known
        self.limits = limits or RecordLimits()
        self.marks = marks or PublishedMarks()
        self.active = ActiveGeneration(store, self.marks.published)
        self._uow: UnitOfWork[ProjectionState] = UnitOfWork(self.active, publisher, self.marks, source=SOURCE)
        self._mappings: dict[int, PortalMapping] = {}

    async def handle(self, event: CloudEvent) -> str:
        """Project one event (a batch of one); returns an outcome label."""
        return (await self.handle_many([Message(event)]))[0]

    async def handle_many(self, messages: Sequence[Message]) -> list[str]:
        """Project a batch: one load, one bulk write, one publish; then dead-letter what cannot be projected."""
        outcomes: dict[int, str] = {}
        bad: dict[str, tuple[CloudEvent, str]] = {}
        todo: list[tuple[int, CaseMessage]] = []
        for i, message in enumerate(messages):
            try:
                facts = read_facts(message.event)
            except InvalidEvent as exc:
                bad[message.event.id], outcomes[i] = (message.event, str(exc)), "invalid"
                continue
            if facts is None:
                outcomes[i] = "not_a_case_event"
            else:
                todo.append((i, CaseMessage(message.event, message.principal, facts)))
        if todo:
            done = await self._uow.run([m for _, m in todo], lambda state, m: self._decide(state, m, bad))
            outcomes.update(zip((i for i, _ in todo), done, strict=True))
        for event, reason in bad.values():  # after the write: a failed batch is redelivered, not dead-lettered twice
            await self._dead_letter(event, reason)
        return [outcomes[i] for i in range(len(messages))]

    def _decide(self, state: ProjectionState | None, message: Message,
                bad: dict[str, tuple[CloudEvent, str]]) -> Step[ProjectionState]:
        """One event on the case as the batch has made it so far, in the generation the cases were loaded from."""
        assert isinstance(message, CaseMessage) and message.facts is not None
        facts, generation = message.facts, self.active.current
        assert generation is not None, "decided after a load"
        mapping = self.mapping_of(generation)
        outcome = project(state, facts, mapping, generation.number, self.limits)
        bad.pop(message.event.id, None)  # decided again after a switch: the last generation's verdict stands
        if outcome.label == "unmapped_status":
            bad[message.event.id] = (message.event, f"status '{facts.status}' of {facts.case_type} has no portal "
                                                    f"status in mapping version {mapping.version}")
        if outcome.state is None:
            return Step(outcome.label)
        entries = [self.record_entry(outcome.state, facts.event_id, message.event)] if outcome.publish else []
        return Step(outcome.label, state=outcome.state, entries=entries)

    def mapping_of(self, generation: Generation) -> PortalMapping:
        """The mapping a generation was built with (parsed once)."""
        if generation.number not in self._mappings:
            self._mappings[generation.number] = parse_mapping(generation.mapping_text, self._known,
                                                              where=f"generation {generation.number}")
        return self._mappings[generation.number]

    def record_entry(self, state: ProjectionState, cause_id: str, cause: CloudEvent | None = None) -> OutboxEntry:
        """The `portal.case-status` record of a state; its id derives from the cause, so a replay repeats it."""
        record = state.record
        event = new_event(PORTAL_STATUS_TYPE, record.case_id, record, source=SOURCE,
                          id_=derived_id(cause_id, f"portal-g{record.generation}"), cause=cause)
        return OutboxEntry.of(self._topics.portal_case_status, event)
