"""Refusals: the rejection envelope from a command or an unreadable record, recorded once, then published."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.contract.envelope import CloudEvent, derived_id, new_event
from shared.contract.rejections import REJECTION_TYPE
from shared.runtime.inbound import Malformed
from shared.runtime.outbox import OutboxEntry
from shared.runtime.refusals import RefusedCommand, Refusals, rejection
from tests.support.memory_store import MemoryRefusals

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def command(**data) -> CloudEvent:
    return new_event("case.submit", "C-1", {"actor": {"id": "mary", "roles": []}, **data}, source="/test", id_="cmd-1")


def test_rejection_of_a_readable_command():
    event = rejection(RefusedCommand.of(command()), "guard_failed", "Add a product.", source="/services/x", at=AT)
    assert event.type == REJECTION_TYPE and event.subject == "C-1" and event.source == "/services/x"
    assert event.id == derived_id("cmd-1", "rejected")
    assert event.data == {"command_id": "cmd-1", "command_type": "case.submit", "case_id": "C-1",
                          "code": "guard_failed", "reason": "Add a product.", "actor_id": "mary",
                          "rejected_at": "2026-11-25T12:00:00Z"}
    assert event.causationid == "cmd-1"  # the command caused it


def test_rejection_of_an_unreadable_record_is_keyed_by_the_command_id_without_a_case():
    bad = Malformed("Invalid envelope: time: missing.", command_id="cmd-2", type="case.open")
    event = rejection(RefusedCommand.malformed(bad), "invalid", bad.error, source="/s", at=AT)
    assert event.subject == "cmd-2" and event.data["case_id"] is None and event.data["actor_id"] is None
    assert event.data["command_type"] == "case.open"


def test_an_actor_that_is_not_an_object_or_has_no_string_id_is_left_out():
    assert RefusedCommand.of(command(actor="mary")).actor_id is None
    assert RefusedCommand.of(command(actor={"id": 7})).actor_id is None


async def test_refused_once_and_a_redelivery_republishes_only_what_is_unsent():
    store, published = MemoryRefusals(), []

    async def flush(command_id, entries):
        published.extend(e.id for e in entries)
        await store.mark_published(command_id, [e.id for e in entries])

    refusals = Refusals(store, "case.rejections", "/s", flush, lambda: AT)
    refused = RefusedCommand.of(command())
    assert not await refusals.seen("cmd-1")
    extra = OutboxEntry(id="x-1", topic="other", key="C-1", payload="{}")
    await refusals.refuse(refused, "forbidden", "No.", [extra])
    await refusals.refuse(refused, "invalid", "Again.")  # a second refusal of the same command changes nothing
    assert published == [derived_id("cmd-1", "rejected"), "x-1"]
    assert await refusals.seen("cmd-1") and published == [derived_id("cmd-1", "rejected"), "x-1"]
    store.docs["cmd-1"] = [extra]  # as if a crash came between publishing and marking
    assert await refusals.seen("cmd-1") and published[-1] == "x-1" and store.docs["cmd-1"] == []
