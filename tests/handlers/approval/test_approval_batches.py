"""Approval through the shared unit of work: a batch is one load and one save; a lost write is decided again."""

from __future__ import annotations

from approval.core import CaseApprovals, Linker
from approval.inject import rule_book
from approval.service import ApprovalService
from approval.settings import ApprovalSettings
from shared.contract.envelope import CloudEvent
from shared.runtime.marks import PublishedMarks
from shared.runtime.people import FollowedDirectory
from shared.runtime.unit_of_work import Message
from tests.handlers.approval.memory_store import MemoryApprovalStore, _case_doc
from tests.handlers.approval.test_approval_handlers import NOW, decide, event, opened, pending


class Sent:
    """A publisher that remembers what it sent."""

    def __init__(self) -> None:
        self.events: list[CloudEvent] = []

    async def publish_many(self, entries) -> None:
        self.events.extend(CloudEvent.model_validate_json(e.payload) for e in entries)

    async def publish(self, entries) -> None:
        await self.publish_many(entries)


def service() -> tuple[ApprovalService, MemoryApprovalStore, Sent]:
    settings = ApprovalSettings(service_name="approval", public_base_url="https://cases.test")
    store, sent = MemoryApprovalStore(), Sent()
    linker = Linker(settings.link_secret, settings.public_base_url)
    service = ApprovalService(store, sent, settings.topics, rule_book(settings, FollowedDirectory()), linker,  # type: ignore[arg-type]
                              PublishedMarks(), clock=lambda: NOW)
    return service, store, sent


def snapshot(case_id: str) -> dict:
    return opened(case_id, {"case_type": "csr", "gbu": "marine", "account_id": "ACC-1001", "fields": {},
                            "account": {"country": "NO"}})


def msg(doc: dict, principal: str | None = None) -> Message:
    return Message(CloudEvent.model_validate(doc), principal)


async def test_several_messages_for_several_cases_are_one_load_and_one_save():
    svc, store, sent = service()
    batch = [msg(event("case.opened", c, snapshot(c))) for c in ("A", "B")] + [msg(pending(c)) for c in ("A", "B")]
    assert await svc.handle_events(batch) == ["accepted"] * 4
    assert store.loads == [["A", "B"]] and store.saves == [["A", "B"]]
    assert store.docs["A"]["applied"] == [batch[0].event.id, batch[2].event.id]
    assert [e.subject for e in sent.events if e.type == "approval.requested"] == ["A", "B"]
    store.loads.clear(), store.saves.clear()
    votes = [msg(decide(c, "john"), "crm") for c in ("A", "B")]
    assert await svc.handle_commands(votes + [votes[0]]) == ["accepted", "accepted", "duplicate"]
    assert store.loads == [["A", "B"]] and store.saves == [["A", "B"]]
    assert [e.subject for e in sent.events if e.type == "case.record_approval"] == ["A", "B"]


async def test_a_lost_write_is_decided_again_from_fresh_state():
    svc, store, sent = service()
    await svc.handle_events([msg(pending("A")), msg(pending("B"))])
    store.loads.clear(), store.saves.clear()

    def cancelled_meanwhile(doc: dict) -> None:  # another replica voided A's step before our write landed
        state = CaseApprovals.model_validate(doc["state"])
        state.current.status = "cancelled"  # type: ignore[union-attr]
        doc.update(_case_doc(state))

    store.lose_once["A"] = cancelled_meanwhile
    outcomes = await svc.handle_commands([msg(decide("A", "john"), "crm"), msg(decide("B", "john"), "crm")])
    assert outcomes == ["rejected", "accepted"]
    assert store.loads == [["A", "B"], ["A"]] and store.saves == [["A", "B"]]  # only the loser again; refused: no write
    assert [e.subject for e in sent.events if e.type == "approval.decided"] == ["B"]
    [rejection] = [e for e in sent.events if e.type == "case.command_rejected"]
    assert (rejection.subject, rejection.data["code"]) == ("A", "not_found") and len(store.refusals.docs) == 1
