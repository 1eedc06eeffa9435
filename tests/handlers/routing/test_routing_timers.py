"""Routing's case time-frame timers on FastStream's in-memory broker: reminded once, escalated, cancelled, moved."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from routing.inject import put_file_rules_in_force, register
from routing.settings import RoutingSettings
from shared.directory import load_directory
from tests.handlers.routing.memory_store import MemoryRoutingStore
from tests.handlers.routing.test_routing_handlers import event, opened, send
from tests.support.capture import capture

OPENED_AT = "2026-11-25T07:00:00Z"  # Wednesday 08:00 Oslo: helpdesk's 16 h are due Thursday 16:00 Oslo
DUE, ESCALATE = datetime(2026, 11, 26, 15, 0, tzinfo=UTC), datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@pytest.fixture
async def harness():
    settings, store, now = RoutingSettings(service_name="routing", topic_prefix="ht."), MemoryRoutingStore(), [DUE]
    await put_file_rules_in_force(store, load_directory(), None)
    broker = KafkaBroker()
    service, _, _ = register(broker, settings, store, clock=lambda: now[0])
    seen = capture(broker, {"events": settings.topics.routing_events})
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker, settings, store, service.timers, seen, now


async def open_helpdesk(broker, settings, case_id: str, assignee: str | None, **fields) -> None:
    await send(broker, settings.topics.case_events, opened(case_id, "helpdesk", "open" if assignee else "available",
                                                           created_at=OPENED_AT, assignee=assignee,
                                                           queue="helpdesk", fields=fields))


async def test_an_overdue_case_is_reminded_once_then_escalated_and_a_closed_one_is_not(harness):
    broker, settings, store, timers, seen, now = harness
    await open_helpdesk(broker, settings, "HD-1", "carl")
    await open_helpdesk(broker, settings, "HD-2", "carl")
    await send(broker, settings.topics.case_events, event("case.closed", "HD-2", 2, "helpdesk", "closed", reason="solved"))
    assert store.cases["HD-1"]["state"].next_due == DUE and store.cases["HD-2"]["state"].timer is None
    assert await timers.tick() == ESCALATE  # the next one it sleeps towards
    (reminded,) = seen["events"]
    assert reminded["type"] == "timeframe.reminded" and reminded["subject"] == "HD-1"
    assert reminded["data"]["assignee"] == "carl" and reminded["data"]["time_frame"] == "helpdesk"
    assert reminded["data"]["due_at"] == "2026-11-26T15:00:00Z"
    await timers.tick()
    assert len(seen["events"]) == 1  # once
    now[0] = ESCALATE
    assert await timers.tick() is None
    escalated = seen["events"][1]
    assert escalated["type"] == "timeframe.escalated" and escalated["data"]["escalated_to"] == "clara"
    assert escalated["data"]["reason"] == "manager of carl"
    assert [e["subject"] for e in seen["events"]] == ["HD-1", "HD-1"]  # HD-2, closed, never


async def test_a_changed_due_date_moves_the_timer_and_a_resolved_case_cancels_it(harness):
    broker, settings, store, timers, seen, now = harness
    await open_helpdesk(broker, settings, "HD-3", None)
    await send(broker, settings.topics.case_events, event(
        "case.updated", "HD-3", 2, "helpdesk", "available", command_type="case.update",
        changes=[{"field": "fields.due_date", "before": None, "after": "2026-12-03"}]))
    assert store.cases["HD-3"]["state"].next_due == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)  # end of day, Oslo
    await timers.tick()
    assert seen["events"] == []  # no longer due on the 26th
    now[0] = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
    await timers.tick()
    (reminded,) = seen["events"]
    assert reminded["data"]["time_frame"] == "due_date" and reminded["data"]["assignee"] is None
    await send(broker, settings.topics.case_events, event("case.closed", "HD-3", 3, "helpdesk", "closed", reason="solved"))
    assert store.cases["HD-3"]["state"].next_due is None
    now[0] = datetime(2027, 1, 1, tzinfo=UTC)
    assert await timers.tick() is None and len(seen["events"]) == 1


async def test_a_due_time_with_nothing_left_to_fire_is_cleared_rather_than_spun_on(harness):
    broker, settings, store, timers, seen, now = harness
    await open_helpdesk(broker, settings, "HD-4", "carl")
    store.cases["HD-4"]["state"].timer = None  # e.g. written by an older version: a due time without a timer
    assert await timers.tick() is None
    assert store.cases["HD-4"]["state"].next_due is None and seen["events"] == []
