"""portal-sync's service on whole batches: one load, one bulk write and one pointer read per batch; lost races."""

from __future__ import annotations

import json

from portal_sync.adapters.outbound.lifecycles import known_statuses
from portal_sync.core import DEFAULT_MAPPING, load_mapping, project, read_facts
from portal_sync.ports.store import StoredProjection
from portal_sync.service import ProjectionService
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Message
from shared.settings import Settings
from tests.handlers.portal_sync.memory_store import MemoryProjectionStore
from tests.unit.portal_sync.events import moved, opened

TOPICS = Settings(service_name="portal-sync", topic_prefix="b.").topics


class Sent:
    """A publisher that remembers the records it sent, in order."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, int]] = []
        self.calls = 0

    async def publish_many(self, entries: list[OutboxEntry]) -> None:
        self.calls += 1
        for e in entries:
            data = json.loads(e.payload)["data"]
            self.records.append((e.key, data["portal_status"], data["version"]))


async def setup(store: MemoryProjectionStore | None = None):
    store = store or MemoryProjectionStore()
    await store.activate_first(DEFAULT_MAPPING.read_text(), 1)
    sent, dead = Sent(), []

    async def dead_letter(event, reason):
        dead.append((event.id, reason))

    service = ProjectionService(store, sent, TOPICS, dead_letter,  # type: ignore[arg-type]  # a fake publisher
                                known_statuses(), PublishedMarks())
    return store, sent, dead, service


def batch(*events) -> list[Message]:
    return [Message(e) for e in events]


async def test_a_batch_of_several_cases_is_one_load_one_save_one_publish_and_one_pointer_read():
    store, sent, dead, service = await setup()
    await service.handle_many(batch(opened("W-0", "claim")))  # the first batch also reads the pointer to start
    store.loads, store.saves, store.pointer_reads, sent.calls = [], [], 0, 0
    outcomes = await service.handle_many(batch(
        opened("A-1", "claim"), opened("B-1", "quotation"), moved("A-1", "claim", "new", "in_progress", 2),
        moved("A-1", "claim", "in_progress", "waiting_for_feedback", 3), opened("C-1", "csr", status="registration"),
        opened("D-1", "quotation", status="on_hold")))
    assert outcomes == ["published", "published", "projected", "published", "not_projected", "unmapped_status"]
    assert store.loads == [["A-1", "B-1", "C-1", "D-1"]] and store.saves == [["A-1", "B-1"]]
    assert store.pointer_reads == 1 and sent.calls == 1
    assert sent.records[1:] == [("A-1", "In Progress", 1), ("A-1", "Awaiting Feedback", 3), ("B-1", "In Progress", 1)]
    assert store.docs[1]["A-1"].rev == 1 and store.docs[1]["A-1"].state.record.version == 3  # one write per case
    assert [reason.split(" has")[0] for _, reason in dead] == ["status 'on_hold' of quotation"]


async def test_a_redelivered_batch_changes_and_publishes_nothing():
    store, sent, _, service = await setup()
    events = batch(opened("A-1", "claim"), moved("A-1", "claim", "new", "waiting_for_feedback", 2))
    await service.handle_many(events)
    assert await service.handle_many(events) == ["stale", "duplicate"]  # v1 is older than the stored v2
    assert len(sent.records) == 2 and len(store.saves) == 1


async def test_a_lost_compare_and_set_is_decided_again_from_fresh_state():
    class Racing(MemoryProjectionStore):
        """Another replica writes B-1 at version 3 just before our first bulk write of the batch."""

        race = False

        async def save(self, generation, changes):
            if self.race:
                self.race = False
                mapping, _ = load_mapping()
                doc = self.docs[generation]["B-1"]
                newer = project(doc.state, read_facts(moved("B-1", "claim", "new", "in_progress", 3)), mapping, 1)
                self.docs[generation]["B-1"] = StoredProjection(newer.state, doc.rev + 1, doc.outbox)
            return await super().save(generation, changes)

    store, sent, _, service = await setup(Racing())
    await service.handle_many(batch(opened("B-1", "claim")))
    store.loads, store.race = [], True
    outcomes = await service.handle_many(batch(opened("A-1", "claim"),
                                               moved("B-1", "claim", "new", "waiting_for_feedback", 2)))
    assert outcomes == ["published", "stale"]  # version 2 is older than what the other replica wrote
    assert store.loads == [["A-1", "B-1"], ["B-1"]]  # only the loser is loaded and decided again
    assert store.docs[1]["B-1"].state.record.version == 3 and store.docs[1]["A-1"].rev == 1
    assert sent.records == [("B-1", "In Progress", 1), ("A-1", "In Progress", 1)]  # the lost attempt sent nothing


async def test_a_mark_written_while_a_batch_loads_does_not_send_the_record_again():
    class Marking(MemoryProjectionStore):
        """The published mark of the case's last record lands after our read of its document."""

        marks: PublishedMarks | None = None

        async def load(self, generation, case_ids):
            found = await super().load(generation, case_ids)  # still holds the record in its outbox
            if self.marks is not None:
                await self.marks.flush()  # written now: the record leaves `published`
            return found

    store, sent, _, service = await setup(Marking())
    store.marks = service.marks
    await service.handle_many(batch(opened("M-1", "claim")))
    await service.handle_many(batch(moved("M-1", "claim", "new", "waiting_for_feedback", 2)))
    assert sent.records == [("M-1", "In Progress", 1), ("M-1", "Awaiting Feedback", 2)]  # the first once only
    assert [json.loads(e.payload)["data"]["version"] for e in store.docs[1]["M-1"].outbox] == [2]
