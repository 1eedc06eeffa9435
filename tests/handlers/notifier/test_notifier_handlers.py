"""The notifier's subscribers on FastStream's in-memory broker, with an in-memory store and a fake sender."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from notifier.inject import register
from notifier.ports.sender import SendError, Unreachable
from notifier.settings import NotifierSettings
from shared.links import LinkClaim, encode_body
from shared.contract.envelope import now_utc
from shared.contract.notification import NotificationFailed, NotificationSent, NotificationSkipped
from shared.runtime.marks import PublishedMarks
from tests.handlers.notifier.memory_store import FakeSender, MemoryNotifierStore
from tests.support.capture import capture

CASE = "CSR-H1"
APPROVALS = "https://approvals.example.com"


def token_for(person: str, case_id: str = CASE) -> str:
    """A well-formed token (the notifier cannot check signatures: it holds no secret)."""
    return encode_body(LinkClaim(case_id, "ap-1", person, 4_000_000_000)) + "." + "S" * 24


TOKEN = token_for("john")
LINK = f"{APPROVALS}/approvals/{TOKEN}"


def envelope(type_: str, data: dict, subject: str = CASE, id_: str | None = None) -> dict:
    return {"specversion": "1.0", "id": id_ or str(uuid.uuid4()), "source": "/tests", "type": type_,
            "subject": subject, "time": "2026-11-25T10:00:00Z", "data": data}


def case_event(type_: str, status: str, actor: str = "mary", version: int = 1, **data) -> dict:
    return envelope(type_, {"case_id": CASE, "case_type": "csr", "gbu": "marine", "account_id": "ACC-1",
                            "status": status, "version": version, "actor": {"id": actor, "roles": []}, **data})


OPENED = case_event("case.opened", "registration", case={
    "id": CASE, "subject": "Labels", "created_by": {"id": "mary", "roles": ["sales_rep"]}, "team": []})
REQUESTED = envelope("approval.requested", {"case_id": CASE, "approval_id": "ap-1", "step": "pre_approval",
                                            "approver": "john", "link": LINK, "token": TOKEN, "case_type": "csr"})


@pytest.fixture
def settings() -> NotifierSettings:
    return NotifierSettings(service_name="notifier", topic_prefix="h.", case_link_base="https://crm.example.com",
                            approval_public_url=APPROVALS,
                            notify_max_attempts=3, notify_retry_base_seconds=0.001, notify_retry_max_seconds=0.001,
                            notify_lease_seconds=1.0)  # half of it left, a handed-off delivery is sent from memory


@pytest.fixture
async def harness(settings):
    store, sender, broker = MemoryNotifierStore(), FakeSender(), KafkaBroker()
    _, dispatcher = register(broker, settings, store, sender, PublishedMarks())
    topics = settings.topics
    seen = capture(broker, {"outcomes": topics.notification_events, "dlq": topics.dlq(topics.notification_events)})
    async with TestKafkaBroker(broker) as test_broker:

        async def publish(message: dict, topic: str | None = None) -> None:
            topic = topic or (topics.approval_events if message["type"].startswith("approval.") else topics.case_events)
            await test_broker.publish(json.dumps(message).encode(), topic, key=message["subject"].encode())

        yield publish, dispatcher, store, sender, seen


def types(seen: dict) -> list[tuple[str, str]]:
    return [(o["type"], o["data"]["recipient"]) for o in seen["outcomes"]]


async def test_approver_and_assessor_are_mailed_with_their_links(harness):
    publish, dispatcher, store, sender, seen = harness
    await publish(OPENED)
    await publish(REQUESTED)
    await publish(case_event("case.assigned", "under_assessment", "system:routing", 3, assignee="frank"))
    assert set(store.states().values()) == {"pending"} and not sender.sent  # the consumer never sends itself
    assert await dispatcher.run_once() == 2
    by_to = {m.to: m for m in sender.sent}
    assert set(by_to) == {"john@example.com", "frank@example.com"}
    assert LINK in by_to["john@example.com"].text and LINK in by_to["john@example.com"].html
    case_url = f"https://crm.example.com/cases/{CASE}"
    assert case_url in by_to["frank@example.com"].text and "feasibility" in by_to["frank@example.com"].subject
    assert sorted(types(seen)) == [("notification.sent", "frank"), ("notification.sent", "john")]
    sent = NotificationSent.model_validate(seen["outcomes"][0]["data"])
    assert sent.attempts == 1 and sent.message_id == by_to[sent.email].message_id
    await dispatcher._marks.flush()
    assert all(not d["outbox"] for d in store.deliveries.values())  # published, then marked


async def test_same_event_twice_sends_once(harness):
    publish, dispatcher, store, sender, seen = harness
    await publish(OPENED)
    await publish(REQUESTED)
    await dispatcher.run_once()
    await publish(REQUESTED)
    await publish(OPENED)
    await dispatcher.run_once()
    assert [m.to for m in sender.sent] == ["john@example.com"]
    assert types(seen) == [("notification.sent", "john")]
    assert store.files[CASE]["applied"] == [OPENED["id"], REQUESTED["id"]]


async def test_person_without_directory_entry_is_skipped_once(harness):
    publish, dispatcher, store, sender, seen = harness
    ghost = envelope("approval.requested", {**REQUESTED["data"], "approver": "ghost"})
    await publish(ghost)
    await publish(ghost)
    await dispatcher.run_once()
    assert sender.sent == [] and store.states() == {"ghost@approval.requested": "skipped"}
    (skipped,) = seen["outcomes"]
    assert skipped["type"] == "notification.skipped"
    assert "directory" in NotificationSkipped.model_validate(skipped["data"]).reason


async def test_temporary_refusals_retry_then_fail_and_dead_letter_without_holding_others(harness):
    publish, dispatcher, store, sender, seen = harness
    sender.failures["john@example.com"] = [SendError("451 try later") for _ in range(5)]
    await publish(OPENED)
    await publish(REQUESTED)
    await publish(case_event("case.assigned", "under_assessment", "system:routing", 3, assignee="frank"))
    await dispatcher.run_once()
    assert [m.to for m in sender.sent] == ["frank@example.com"]  # not held up by john's
    for _ in range(5):
        await dispatcher.run_once()
        await _pause()
    assert sender.tries.count("john@example.com") == 3  # the limit
    assert store.states()["john@approval.requested"] == "failed"
    failed = [o for o in seen["outcomes"] if o["type"] == "notification.failed"]
    assert len(failed) == 1 and len(seen["dlq"]) == 1 and seen["dlq"][0]["data"] == failed[0]["data"]
    data = NotificationFailed.model_validate(failed[0]["data"])
    assert (data.attempts, data.permanent, data.error) == (3, False, "451 try later")


async def test_permanent_refusal_fails_at_once(harness):
    publish, dispatcher, store, sender, seen = harness
    sender.failures["john@example.com"] = [SendError("550 no such user", permanent=True)]
    await publish(REQUESTED)
    await dispatcher.run_once()
    await dispatcher.run_once()
    assert sender.tries == ["john@example.com"]
    assert [o["type"] for o in seen["outcomes"]] == ["notification.failed"] and len(seen["dlq"]) == 1
    assert seen["outcomes"][0]["data"]["permanent"] is True


async def test_server_outage_never_uses_up_the_limit(harness):
    publish, dispatcher, store, sender, seen = harness
    sender.failures["john@example.com"] = [Unreachable("connection refused") for _ in range(10)]
    await publish(REQUESTED)
    for _ in range(11):
        await dispatcher.run_once()
        await _pause()
    assert [m.to for m in sender.sent] == ["john@example.com"]
    assert types(seen) == [("notification.sent", "john")] and seen["outcomes"][0]["data"]["attempts"] == 11


async def test_crash_after_claim_is_retried_after_the_lease_with_the_same_message_id(harness):
    from notifier.core.delivery import Delivery, Mail

    publish, dispatcher, store, sender, seen = harness
    now = now_utc()  # due in the store (a retry, say), not handed to this process
    await store.add_delivery(Delivery(
        id="d1", event_id="e", event_type="approval.requested", case_id=CASE, recipient="john", role="approver",
        template="approval_requested", created_at=now, next_attempt_at=now,
        mail=Mail(to="john@example.com", subject="s", text="t", html="h", message_id="<d1@x>")))
    (crashed,) = await store.claim_due(now_utc(), now_utc() + timedelta(seconds=0.05), 10)  # claimed, then "crash"
    assert await dispatcher.run_once() == 0  # leased: nobody else takes it meanwhile
    await _pause(0.06)
    assert await dispatcher.run_once() == 1
    assert [m.message_id for m in sender.sent] == [crashed.mail.message_id]


async def test_two_replicas_never_send_one_delivery_twice_when_sending_is_slow(settings):
    import asyncio

    from notifier.core.delivery import Delivery, Mail
    from notifier.adapters.inbound.dispatcher import Dispatcher, RetryPolicy

    class SlowSender(FakeSender):
        async def send(self, mail):
            await asyncio.sleep(0.1)  # each send fits its lease, two in a row do not
            await super().send(mail)

    class NoPublisher:
        async def publish_many(self, entries):
            pass

    store, sender, now = MemoryNotifierStore(), SlowSender(), now_utc()
    for who in ("john", "frank"):
        await store.add_delivery(Delivery(
            id=who, event_id="e", event_type="approval.requested", case_id=CASE, recipient=who, role="approver",
            template="approval_requested", created_at=now, next_attempt_at=now,
            mail=Mail(to=f"{who}@example.com", subject="s", text="t", html="h", message_id=f"<{who}@x>")))
    policy = RetryPolicy(concurrency=1, lease_seconds=0.15)
    replica_a, replica_b = (Dispatcher(store, sender, NoPublisher(), settings.topics, policy, PublishedMarks())
                            for _ in range(2))
    first = asyncio.create_task(replica_a.run_once())
    await _pause(0.17)  # past the lease of anything replica A claimed but has not started to send
    await replica_b.run_once()
    await first
    assert sorted(sender.tries) == ["frank@example.com", "john@example.com"]


async def test_unreadable_approval_event_is_ignored_and_the_consumer_goes_on(harness):
    publish, dispatcher, store, sender, seen = harness
    await publish(envelope("approval.requested", {"case_id": CASE, "step": "x"}))  # no approver
    await publish(envelope("approval.reminder", {**REQUESTED["data"], "due_at": "tomorrow"}))
    await dispatcher.run_once()
    assert [m.subject.startswith("Reminder") for m in sender.sent] == [True]


async def test_an_unreadable_case_event_is_skipped_and_the_consumer_goes_on(harness):
    publish, dispatcher, store, sender, seen = harness
    await publish(OPENED)
    await publish(case_event("case.assigned", "under_assessment", "system:routing", "three", assignee="frank"))
    await publish(case_event("case.assigned", "under_assessment", "system:routing", 3, assignee="peter"))
    await dispatcher.run_once()
    assert [m.to for m in sender.sent] == ["peter@example.com"] and len(store.files[CASE]["applied"]) == 2


async def test_own_actions_and_unsubscribed_events_send_nothing(harness):
    publish, dispatcher, store, sender, seen = harness
    await publish(OPENED)
    await publish(case_event("case.closed", "inactive", "mary", 2, reason="no_longer_valid"))
    await publish(case_event("case.updated", "registration", "mary", 2, changes=[], command_type="case.update"))
    await publish(envelope("account.upserted", {"account_id": "ACC-1", "name": "X"}, subject="ACC-1"))
    await dispatcher.run_once()
    assert sender.sent == [] and store.deliveries == {}


async def _pause(seconds: float = 0.005) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def test_a_case_id_in_the_data_that_differs_from_the_subject_files_under_the_subject(harness):
    publish, dispatcher, store, sender, seen = harness
    await publish({**OPENED, "data": {**OPENED["data"], "case_id": "OTHER-1"}})
    assert store.files[CASE]["applied"] == [OPENED["id"]] and "OTHER-1" not in store.files


async def test_a_forged_link_in_an_approval_event_is_never_mailed(harness):
    publish, dispatcher, store, sender, seen = harness
    await publish(OPENED)
    await publish(envelope("approval.requested", {**REQUESTED["data"], "link": "https://evil.example/login"}))
    await publish(envelope("approval.reminder", {**REQUESTED["data"], "due_at": "tomorrow",
                                                 "link": f"https://evil.example/approvals/{TOKEN}"}))
    escalated = token_for("peter")
    await publish(envelope("approval.escalated", {**REQUESTED["data"], "escalated_to": "peter", "token": escalated,
                                                  "link": "https://evil.example/x", "due_at": "today"}))
    assert await dispatcher.run_once() == 3
    for mail in sender.sent:
        assert "evil.example" not in mail.text + mail.html
    links = {m.to: m.link for m in sender.sent}
    assert links == {"john@example.com": LINK, "peter@example.com": f"{APPROVALS}/approvals/{escalated}"}
    assert sum(LINK in m.text and LINK in m.html for m in sender.sent) == 2


async def test_an_approval_event_without_a_token_for_its_recipient_is_not_mailed(harness):
    publish, dispatcher, store, sender, seen = harness
    await publish(OPENED)
    bad = [{"token": None, "link": "https://evil.example/login"},  # no token at all
           {"token": "../../login?next=https://evil.example"},  # not a token
           {"token": token_for("mallory")},  # names someone else
           {"token": token_for("john", "OTHER-CASE")},  # another case
           {"token": "é" * 30 + "." + "S" * 24}]
    for fields in bad:
        await publish(envelope("approval.requested", {**REQUESTED["data"], **fields}))
    await dispatcher.run_once()
    assert sender.sent == []
    assert [t for t, _ in types(seen)] == ["notification.skipped"] * len(bad)
    assert all("no well-formed approval link token" in o["data"]["reason"] for o in seen["outcomes"])

