"""The dispatcher's memory: handed-off deliveries (sent once, never late) and when it must look at the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifier.adapters.inbound import handoff
from notifier.adapters.inbound.handoff import Handed, Schedule
from notifier.core.delivery import Delivery

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def leased(did: str, seconds: float, state: str = "pending") -> Delivery:
    return Delivery(id=did, event_id="e", event_type="case.assigned", case_id="C", recipient=did, role="assignee",
                    template="case_assigned", state=state, created_at=NOW,
                    next_attempt_at=NOW + timedelta(seconds=seconds))


def test_handed_deliveries_are_taken_oldest_first_once_each_with_their_lease():
    left: list[str] = []
    handed = Handed(60, leave=lambda d: left.append(d.id))
    assert handed.put([leased("a", 60), leased("s", 60, state="skipped"), leased("b", 59)])
    assert not handed.put([leased("a", 60)])  # queued already
    assert len(handed) == 2
    taken = handed.take(1, NOW)
    assert [(d.id, lease) for d, lease in taken] == [("a", NOW + timedelta(seconds=60))]
    assert [d.id for d, _ in handed.take(8, NOW)] == ["b"] and handed.take(8, NOW) == [] and left == []


def test_one_with_less_than_half_its_lease_left_or_claimed_meanwhile_is_not_sent_from_memory():
    left: list[str] = []
    handed = Handed(60, leave=lambda d: left.append(d.id))
    handed.put([leased("late", 29), leased("claimed", 60), leased("ok", 31)])
    handed.forget(["claimed"])  # a claim took it: its lease is the claim's now
    assert [d.id for d, _ in handed.take(8, NOW)] == ["ok"]
    assert left == ["late"] and len(handed) == 0


def test_beyond_the_bound_a_delivery_is_left_to_the_sweep(monkeypatch):
    monkeypatch.setattr(handoff, "HANDED_MAX", 2)
    left: list[str] = []
    handed = Handed(60, leave=lambda d: left.append(d.id))
    handed.put([leased(d, 60) for d in "abc"])
    assert len(handed) == 2 and left == ["c"]


def test_the_schedule_looks_first_then_at_the_earliest_known_due_time_or_the_sweep():
    schedule = Schedule(10)
    assert schedule.due(NOW)  # never looked: what a crash left
    schedule.looked(NOW, None)
    assert schedule.next_look == NOW + timedelta(seconds=10) and not schedule.due(NOW + timedelta(seconds=9))
    schedule.expect(NOW + timedelta(seconds=3))  # a retry it scheduled
    schedule.expect(NOW + timedelta(seconds=5))
    assert schedule.next_look == NOW + timedelta(seconds=3) and schedule.due(NOW + timedelta(seconds=3))
    schedule.looked(NOW, NOW + timedelta(seconds=4))
    assert schedule.next_look == NOW + timedelta(seconds=4)
    schedule.looked(NOW, NOW + timedelta(seconds=60))  # a lease far off: the sweep comes first
    assert schedule.next_look == NOW + timedelta(seconds=10)
