"""Bulk marking of published outbox entries."""

from __future__ import annotations

from shared.runtime.marks import PublishedMarks


class FlakyOutbox:
    """Fails the first bulk mark, then records what it is asked to mark."""

    def __init__(self) -> None:
        self.calls: list[dict[str, list[str]]] = []
        self.fail_next = True

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("store away")
        self.calls.append(marks)


async def test_marks_are_written_in_one_bulk_and_forgotten_after():
    outbox, marks = FlakyOutbox(), PublishedMarks()
    outbox.fail_next = False
    marks.add(outbox, "C1", ["e1", "e2"])
    marks.add(outbox, "C2", ["e3"])
    assert marks.published == {"e1", "e2", "e3"}
    await marks.flush()
    assert outbox.calls == [{"C1": ["e1", "e2"], "C2": ["e3"]}]
    assert marks.published == set()


async def test_a_failed_flush_keeps_the_marks_for_the_next_one():
    outbox, marks = FlakyOutbox(), PublishedMarks()
    marks.add(outbox, "C1", ["e1"])
    await marks.flush()
    assert marks.published == {"e1"}  # still known as sent: the service will not send it again
    await marks.flush()
    assert outbox.calls == [{"C1": ["e1"]}] and marks.published == set()


async def test_young_marks_wait_so_the_next_write_can_drop_them_for_free():
    outbox, marks = FlakyOutbox(), PublishedMarks(hold=60)
    outbox.fail_next = False
    marks.add(outbox, "C1", ["e1"])
    marks.add(outbox, "C2", ["e2"])
    await marks._flush_due()
    assert outbox.calls == [] and marks.published == {"e1", "e2"}  # held: still known as sent
    marks.cleared(outbox, "C1", ["e1"])  # C1's next write dropped e1 from its outbox
    await marks.stop()  # on the way out everything left is written, however young
    assert outbox.calls == [{"C2": ["e2"]}] and marks.published == set()


async def test_marks_older_than_the_hold_are_written_by_the_background_flush():
    outbox, marks = FlakyOutbox(), PublishedMarks(hold=0)
    outbox.fail_next = False
    marks.add(outbox, "C1", ["e1"])
    await marks._flush_due()
    assert outbox.calls == [{"C1": ["e1"]}] and marks.published == set()
