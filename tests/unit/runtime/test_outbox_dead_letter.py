"""Outbox entries that cannot be published: dead-lettered and passed over, while outages still raise."""

from __future__ import annotations

from datetime import datetime

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, RecordListTooLargeError

from shared.runtime.outbox import OutboxEntry, OutboxRelay, Publisher


class FakeBroker:
    """Records what was published; `refuse(topic, value) -> exception | None` decides per record."""

    def __init__(self, refuse=lambda topic, value: None) -> None:
        self.sent: list[tuple[str, bytes, dict]] = []
        self._refuse = refuse

    async def publish(self, value: bytes, *, topic: str, key: bytes, headers: dict, correlation_id: str) -> None:
        error = self._refuse(topic, value)
        if error is not None:
            raise error
        self.sent.append((topic, value, headers))


def entry(n: int, payload: str = "{}") -> OutboxEntry:
    return OutboxEntry(id=f"e{n}", topic="t", key="C1", payload=payload)


async def test_an_entry_over_the_record_limit_is_dead_lettered_cut_to_the_limit_and_the_rest_go_out():
    broker = FakeBroker()
    await Publisher(broker, record_bytes=100).publish([entry(1), entry(2, "x" * 250), entry(3)])
    assert [(t, v) for t, v, _ in broker.sent] == [("t", b"{}"), ("t.dlq", b"x" * 100), ("t", b"{}")]
    headers = broker.sent[1][2]
    assert headers["dlq-entry-id"] == "e2" and headers["dlq-original-topic"] == "t"
    assert headers["dlq-size"] == "250" and headers["dlq-truncated"] == "true"
    assert headers["dlq-error"].startswith("MessageSizeTooLargeError")


async def test_an_entry_the_broker_refuses_is_dead_lettered_whole_when_it_fits():
    broker = FakeBroker(lambda topic, value: RecordListTooLargeError() if topic == "t" and value == b"bad" else None)
    await Publisher(broker, record_bytes=100).publish([entry(1, "bad"), entry(2)])
    assert [(t, v, h.get("dlq-truncated")) for t, v, h in broker.sent] == [("t.dlq", b"bad", "false"), ("t", b"{}", None)]


async def test_text_that_cannot_be_encoded_is_dead_lettered_escaped():
    broker = FakeBroker()
    await Publisher(broker, record_bytes=100).publish([entry(1, '{"a": "\ud800"}'), entry(2)])
    assert broker.sent[0][0] == "t.dlq" and broker.sent[0][1] == b'{"a": "\\ud800"}'
    assert "UnicodeEncodeError" in broker.sent[0][2]["dlq-error"] and broker.sent[1][0] == "t"


async def test_when_the_cut_value_is_refused_too_the_headers_alone_go_to_the_dead_letter():
    broker = FakeBroker(lambda topic, value: MessageSizeTooLargeError() if len(value) > 10 else None)
    await Publisher(broker, record_bytes=100).publish([entry(1, "y" * 50)])
    assert [(t, v) for t, v, _ in broker.sent] == [("t.dlq", b"")]
    assert broker.sent[0][2]["dlq-size"] == "50"


async def test_an_outage_raises_and_dead_letters_nothing():
    broker = FakeBroker(lambda topic, value: KafkaConnectionError())
    with pytest.raises(KafkaConnectionError):
        await Publisher(broker, record_bytes=100).publish([entry(1), entry(2)])
    assert broker.sent == []


async def test_an_outage_while_dead_lettering_raises_so_the_entry_is_tried_again():
    broker = FakeBroker(lambda topic, value: KafkaConnectionError() if topic == "t.dlq" else None)
    with pytest.raises(KafkaConnectionError):
        await Publisher(broker, record_bytes=10).publish([entry(1, "z" * 20), entry(2)])
    assert broker.sent == []


class Owners:
    """An outbox store whose `pending` can fail, recording what was marked published."""

    def __init__(self, owners: dict[str, list[OutboxEntry]], fail: Exception | None = None) -> None:
        self.owners, self.fail, self.marked = owners, fail, {}

    async def pending(self, older_than: datetime, limit: int) -> list[tuple[str, list[OutboxEntry]]]:
        if self.fail is not None:
            raise self.fail
        return [(o, es) for o, es in self.owners.items() if o not in self.marked]

    async def mark_published(self, owner_id: str, entry_ids: list[str]) -> None:
        self.marked[owner_id] = entry_ids


async def test_the_start_up_sweep_never_fails_the_start_up():
    relay = OutboxRelay([Owners({}, fail=KafkaConnectionError())], Publisher(FakeBroker()), interval=60)
    await relay.start()  # logs the failure; the background sweep tries again
    await relay.stop()


async def test_one_owner_failing_for_another_reason_does_not_strand_the_owners_behind_it():
    def refuse(topic: str, value: bytes) -> Exception | None:
        return RuntimeError("unexpected") if value == b"boom" else None

    store = Owners({"A": [entry(1, "boom")], "B": [entry(2)]})
    sent = await OutboxRelay([store], Publisher(FakeBroker(refuse)), interval=60).sweep(grace=0)
    assert sent == 1 and store.marked == {"B": ["e2"]}


async def test_the_relay_leaves_entries_this_process_published_whose_mark_is_not_written_yet():
    store = Owners({"A": [entry(1), entry(2)], "B": [entry(3)]})
    broker = FakeBroker()
    sent = await OutboxRelay([store], Publisher(broker), interval=60, published={"e1", "e3"}).sweep(grace=0)
    assert sent == 1 and store.marked == {"A": ["e2"]}
