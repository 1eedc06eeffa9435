"""Events that plan nothing and only move a case file's status/version are not written (store writes are the cost)."""

from __future__ import annotations

import pytest

from notifier.core.render import Renderer
from notifier.core.subscriptions import load_subscriptions
from notifier.service import Links, NotifierService
from shared.contract.envelope import CloudEvent
from shared.runtime.marks import PublishedMarks
from shared.runtime.people import FollowedDirectory
from shared.runtime.unit_of_work import Message
from shared.settings import Topics
from tests.handlers.notifier.memory_store import MemoryNotifierStore
from tests.handlers.notifier.test_notifier_batch import Publisher
from tests.handlers.notifier.test_notifier_handlers import CASE, OPENED, case_event


def msg(event: dict) -> Message:
    return Message(CloudEvent.model_validate(event))


def moved(to: str, version: int, actor: str = "mary") -> dict:
    """`case.status_changed` (manual) to `to`, as intake would publish it."""
    return case_event("case.status_changed", to, actor, version, **{"from": "registration"}, to=to, trigger="manual",
                      category="open", label=to)


def opened_with_team(*members: str) -> dict:
    return {**OPENED, "data": {**OPENED["data"], "case": {**OPENED["data"]["case"],
                                                          "team": [{"person_id": p, "role": "tech"} for p in members]}}}


@pytest.fixture
def handle():
    store = MemoryNotifierStore()
    service = NotifierService(store, Publisher(), Topics(prefix="q."), load_subscriptions(None, Renderer().names()),
                              Renderer(), FollowedDirectory().directory,
                              Links("https://crm.example.com", "example.com", "https://approvals.example.com"),
                              PublishedMarks())

    async def run(*events: dict) -> list[str]:
        return await service.handle_many([msg(e) for e in events])
    return run, store


async def test_a_status_change_that_plans_nothing_writes_nothing(handle):
    run, store = handle
    assert await run(OPENED) == ["planned:0"]  # a new file is written
    saves, stored = len(store.saves), dict(store.files[CASE])
    assert await run(moved("under_assessment", 2)) == ["planned:0"]  # no team: nobody to tell
    assert len(store.saves) == saves and store.files[CASE] == stored
    assert (stored["rev"], stored["file"]["status"], stored["file"]["version"]) == (1, "registration", 1)


async def test_an_assignment_is_written_and_later_mail_goes_to_the_new_assignee(handle):
    run, store = handle
    assigned = case_event("case.assigned", "in_progress", "system:routing", 3, assignee="frank")
    # One batch, as the consumer fetches it: only the new file and the assignment are written, in one save.
    assert await run(OPENED, moved("in_progress", 2), assigned) == ["planned:0", "planned:0", "planned:1"]
    assert store.saves == [[CASE]] and store.files[CASE]["applied"] == [OPENED["id"], assigned["id"]]
    file = store.files[CASE]
    assert (file["rev"], file["file"]["assignee"], file["file"]["version"]) == (1, "frank", 3)
    reply = case_event("case.message_received", "response_received", "customer:ann", 4, message="Hi",
                       from_customer=True)
    assert await run(reply) == ["planned:1"]
    assert {(d["recipient"], d["mail"]["to"]) for d in store.deliveries.values()
            if d["event_type"] == "case.message_received"} == {("frank", "frank@example.com")}
    assert store.files[CASE]["rev"] == 2  # a planned delivery is written as before


async def test_a_redelivered_event_that_planned_nothing_plans_nothing_again(handle):
    run, store = handle
    status = moved("under_assessment", 2)
    await run(OPENED)
    assert await run(status) == ["planned:0"]
    assert await run(status) == ["planned:0"]  # not remembered as applied, decided again: the same
    # Redelivered after a later command was written: planned against the file as it is now, it would tell
    # frank (on the team since version 3) of a change made before he joined.
    added = case_event("case.team_member_added", "under_assessment", "mary", 3, person_id="frank", role="tech")
    assert await run(added) == ["planned:0"] and store.files[CASE]["file"]["team"] == {"frank": "tech"}
    assert await run(status, added) == ["planned:0", "duplicate"]
    assert store.deliveries == {} and store.files[CASE]["applied"] == [OPENED["id"], added["id"]]


async def test_a_status_change_that_tells_the_team_is_written(handle):
    run, store = handle
    await run(opened_with_team("frank"))
    first = moved("under_assessment", 2)
    assert await run(first) == ["planned:1"]  # frank, on the team, is told
    file = store.files[CASE]
    assert (file["rev"], file["file"]["status"], file["applied"][-1]) == (2, "under_assessment", first["id"])
    assert await run(moved("in_progress", 3, actor="frank")) == ["planned:0"]  # his own change: nobody else
    assert store.files[CASE]["rev"] == 2
    assert [d["recipient"] for d in store.deliveries.values()] == ["frank"]
