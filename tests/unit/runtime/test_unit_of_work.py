"""The shared unit of work against an in-memory store: folding, compare-and-set retries, refusals, publishing."""

from __future__ import annotations

from collections.abc import Sequence

from shared.contract.envelope import derived_id, new_event
from shared.runtime.marks import PublishedMarks
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded, Message, Step, UnitOfWork
from tests.support.memory_store import MemoryRefusalBook


class Counters:
    """Aggregates holding one integer; `lose_once` makes the first write of those keys lose its race."""

    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}
        self.loads: list[list[str]] = []
        self.saves = 0
        self.lose_once: set[str] = set()
        self.outbox = self

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        for key, ids in marks.items():
            self.docs[key]["outbox"] = [e for e in self.docs[key]["outbox"] if e.id not in ids]

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[int]]:
        self.loads.append(list(keys))
        return {k: Loaded(k, d["n"], d["v"], frozenset(d["applied"]), list(d["outbox"]))
                for k, d in self.docs.items() if k in keys}

    async def save(self, changes: Sequence[Change[int]]) -> set[str]:
        self.saves += 1
        lost = set()
        for c in changes:
            doc = self.docs.get(c.key)
            if c.key in self.lose_once:  # somebody else wrote first
                self.lose_once.discard(c.key)
                self.docs[c.key] = {"n": 100, "v": (doc["v"] if doc else 0) + 1, "applied": set(), "outbox": []}
                lost.add(c.key)
            elif (doc["v"] if doc else None) == (c.loaded.version if c.loaded else None):
                self.docs[c.key] = {"n": c.state, "v": (doc["v"] if doc else 0) + 1,
                                    "applied": (doc["applied"] if doc else set()) | set(c.message_ids),
                                    "outbox": (doc["outbox"] if doc else []) + c.entries}
            else:
                lost.add(c.key)
        return lost


class Sent:
    """A publisher that remembers what it sent, in order."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def publish_many(self, entries: list[OutboxEntry]) -> None:
        self.ids.extend(e.id for e in entries)


def msg(key: str, n: int, id_: str | None = None) -> Message:
    return Message(new_event("add", key, {"n": n}, source="/t", id_=id_ or f"{key}-{n}"))


def add(state: int | None, m: Message) -> Step[int]:
    """Adds n; refuses a negative n; ignores zero."""
    n = m.event.data["n"]
    if n < 0:
        return Step.refused("invalid", "negative")
    if n == 0:
        return Step("ignored")
    entry = OutboxEntry(id=f"out-{m.event.id}", topic="t", key=m.key, payload="{}")
    return Step("accepted", state=(state or 0) + n, entries=[entry])


def setup() -> tuple[Counters, Sent, MemoryRefusalBook, UnitOfWork[int]]:
    store, sent, refusals = Counters(), Sent(), MemoryRefusalBook()
    uow = UnitOfWork(store, sent, PublishedMarks(), refusals=refusals, rejections_topic="rej", source="/t")
    return store, sent, refusals, uow  # type: ignore[arg-type]


async def test_a_batch_is_one_load_and_one_save_and_folds_each_key_in_order():
    store, sent, _, uow = setup()
    outcomes = await uow.run([msg("A", 1), msg("B", 5), msg("A", 2), msg("A", 0)], add)
    assert outcomes == ["accepted", "accepted", "accepted", "ignored"]
    assert store.loads == [["A", "B"]] and store.saves == 1
    assert store.docs["A"]["n"] == 3 and store.docs["A"]["v"] == 1 and store.docs["B"]["n"] == 5
    assert sent.ids == ["out-A-1", "out-A-2", "out-B-5"]


async def test_a_redelivered_message_is_a_duplicate_and_changes_nothing():
    store, sent, _, uow = setup()
    await uow.run([msg("A", 1)], add)
    assert await uow.run([msg("A", 1), msg("A", 2)], add) == ["duplicate", "accepted"]
    assert store.docs["A"]["n"] == 3 and sent.ids == ["out-A-1", "out-A-2"]


async def test_only_the_keys_that_lost_the_race_are_decided_again_from_fresh_state():
    store, sent, _, uow = setup()
    store.lose_once = {"B"}
    assert await uow.run([msg("A", 1), msg("B", 2)], add) == ["accepted", "accepted"]
    assert store.loads == [["A", "B"], ["B"]]
    assert store.docs["B"]["n"] == 102  # applied on top of the other writer's state
    assert sent.ids == ["out-A-1", "out-B-2"]  # the lost attempt's entries were never published


async def test_a_refusal_is_recorded_once_and_published_and_later_messages_of_the_key_go_on():
    store, sent, refusals, uow = setup()
    assert await uow.run([msg("A", -1), msg("A", 4)], add) == ["rejected", "accepted"]
    assert list(refusals.docs) == ["A--1"]
    assert await uow.run([msg("A", -1)], add) == ["duplicate"]
    assert sent.ids == [derived_id("A--1", "rejected"), "out-A-4"]  # in message order, the rejection once
    assert store.docs["A"]["n"] == 4


async def test_entries_a_crash_left_unpublished_go_out_when_the_key_is_seen_again():
    store, sent, _, uow = setup()
    entry = OutboxEntry(id="left", topic="t", key="A", payload="{}")
    store.docs["A"] = {"n": 1, "v": 1, "applied": {"A-1"}, "outbox": [entry]}
    assert await uow.run([msg("A", 1)], add) == ["duplicate"]
    assert sent.ids == ["left"]
