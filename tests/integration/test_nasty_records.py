"""The nasty set on the real broker: every topic every service consumes, each bad record followed by a valid one.

Each bad record ends on `<topic>.dlq` (once per consuming service, the reason in `dlq-error`) or, for a
command whose ids can be read, as a rejection on `case.rejections`; the valid record with the same key
behind it is handled: intake opens the case, portal-sync projects it, routing routes it, approval asks for
the approval, the notifier plans the approver's mail, approval and routing refuse their commands.
"""

from __future__ import annotations

from tests.support import credentials  # the test broker's principals

import json
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from routing.settings import RoutingSettings
from shared.settings import Settings
from tests.support.env import service_env
from tests.support.kafka_io import TopicReader, command, of_type
from tests.support.oidc import bearer
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration

SERVICES = ("intake", "approval", "routing", "portal-sync", "notifier")
RECORD_BYTES, COMMAND_BYTES = 65_536, 32_768  # small limits, so that "over the limit" fits the broker
GARBAGE_HEADERS = [("x-garbage", b"\xff\xfe\x00\xc3"), ("content-type", b"\x80")]
MARY, CARL = {"id": "mary", "roles": ["sales_rep"]}, {"id": "carl", "roles": ["customer_service"]}
WAIT = 90.0


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def nasty(case_id: str) -> dict[str, tuple[bytes, list[tuple[str, bytes]]]]:
    """The nasty set for one key: name -> (value, headers)."""
    good = command("case.update", case_id, {"actor": MARY, "description": "x"})
    wrong_types = {**good, "id": new_id("wt"), "specversion": 1, "source": 5, "type": ["x"], "data": "text"}
    return {
        "lone surrogate id": (json.dumps({**good, "id": "\ud800"}).encode(), []),
        "3000-deep nesting": (b"[" * 3000 + b"]" * 3000, []),
        "invalid UTF-8": (b'{"id": "\xff\xfe", "subject": "' + case_id.encode() + b'"}', []),
        "NUL": (b"\x00", []),
        "NUL in a value": (json.dumps({**good, "id": new_id("nul"), "data": {"actor": MARY, "x": "a\x00b"}}).encode(),
                           []),
        "wrong types": (json.dumps(wrong_types).encode(), []),
        "garbage headers": (b"not JSON", GARBAGE_HEADERS),
        "over the limit": (json.dumps({**good, "id": new_id("big"), "data": {"pad": "p" * 70_000}}).encode(), []),
        "command too large": (json.dumps({**good, "id": new_id("tl"), "data": {"pad": "p" * 40_000}}).encode(), []),
    }


@dataclass
class Sent:
    """A bad record as the broker stored it."""

    name: str
    topic: str
    partition: int
    offset: int
    value: bytes


@pytest.fixture(scope="module")
def services(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    """Every service as a real process, once for the module, with small record limits."""
    logs = tmp_path_factory.mktemp("nasty")
    env = service_env(settings, LIMITS__RECORD_BYTES=str(RECORD_BYTES), LIMITS__COMMAND_BYTES=str(COMMAND_BYTES),
                      LINK_SECRET="nasty", APPROVAL_SCHEDULER_SECONDS="1", SMTP_PORT="9")
    procs: dict[str, ServiceProcess] = {}
    try:
        for name in SERVICES:
            procs[name] = ServiceProcess(name.replace("-", "_"), env, logs / f"{name}.log").start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, max_request_size=1_000_000,
                         **credentials.options())
    await p.start()
    yield p
    await p.stop()


async def send(producer: AIOKafkaProducer, topic: str, key: str, value: bytes | dict,
               headers: list[tuple[str, bytes]] | None = None, name: str = "") -> Sent:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    meta = await producer.send_and_wait(topic, raw, key=key.encode(), headers=headers or None)
    return Sent(name, topic, meta.partition, meta.offset, raw)


def http(proc: ServiceProcess, path: str) -> Any:
    request = urllib.request.Request(f"{proc.url}{path}", headers=bearer("carl"))  # staff read models
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def headers_of(record: Any) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in record.headers or ()}


async def test_every_bad_record_gets_its_outcome_and_the_valid_one_behind_it_is_handled(
        services: dict[str, ServiceProcess], producer: AIOKafkaProducer, settings: Settings):
    t = settings.topics
    routing_topic = t.sent_by("crm").routing_commands
    consumers = {t.sent_by("crm").case_commands: 1, t.case_events: 4, t.sent_by("crm").approval_commands: 1, t.approval_events: 1, routing_topic: 1}
    claim, csr, customer = new_id("CL"), new_id("CSR"), new_id("CR")
    bad: list[Sent] = []
    # Bad records first, on the key each valid record below will use.
    for topic, key in [(t.sent_by("crm").case_commands, customer), (t.case_events, claim), (t.case_events, csr),
                       (t.approval_events, csr), (t.sent_by("crm").approval_commands, csr), (routing_topic, claim)]:
        for name, (value, headers) in nasty(key).items():
            if name == "command too large" and topic not in (t.sent_by("crm").case_commands, t.sent_by("crm").approval_commands, routing_topic):
                continue  # only commands have that limit
            bad.append(await send(producer, topic, key, value, headers, name))

    # Then valid records with the same keys (the first with garbage headers: they are ignored).
    opened = command("case.open", customer, {"case_type": "customer_request", "gbu": "lighting",
                                             "account_id": "ACC-1001", "subject": "Packaging", "actor": MARY,
                                             "fields": {"request_type": "documentation"}})
    await send(producer, t.sent_by("crm").case_commands, customer, opened, GARBAGE_HEADERS)
    await send(producer, t.sent_by("crm").case_commands, claim, command("case.open", claim, {
        "case_type": "claim", "gbu": "marine", "account_id": "ACC-1001", "subject": "A claim", "cause": "commercial",
        "description": "Details", "fields": {}, "actor": CARL}))
    await send(producer, t.sent_by("crm").case_commands, csr, command("case.open", csr, {
        "case_type": "csr", "gbu": "lighting", "account_id": "ACC-1002", "subject": "Labels", "actor": MARY,
        "fields": {"requirement_category": "labelling"}}))
    await send(producer, t.sent_by("crm").case_commands, csr, command("case.add_product", csr, {"actor": MARY, "product_id": "P-7",
                                                                                 "name": "Deck light"}))
    await send(producer, t.sent_by("crm").case_commands, csr, command("case.submit", csr, {"actor": MARY}))
    decide = command("approval.decide", csr, {"case_id": csr, "step": "nope", "decision": "approve", "actor": MARY})
    await send(producer, t.sent_by("crm").approval_commands, csr, decide)
    handover = command("routing.handover", claim, {"actor": MARY, "from_person": "a.b", "to_person": "c.d"})
    await send(producer, routing_topic, claim, handover)

    dlqs = [f"{topic}.dlq" for topic in consumers]
    async with TopicReader(settings.kafka_bootstrap_servers, t.case_events, t.case_rejections, t.approval_events,
                           t.portal_case_status, *dlqs) as reader:
        mine = {(s.topic, s.partition, s.offset) for s in bad}

        def ours() -> list[Any]:  # what the services wrote: neither the bad records nor their dead letters
            return [r for r in reader.records
                    if not r.topic.endswith(".dlq") and (r.topic, r.partition, r.offset) not in mine]

        def rejected(command_id: str) -> list[dict]:
            return [r for r in of_type(ours(), "case.command_rejected")
                    if r["data"]["command_id"] == command_id]

        def dead_letters(sent: Sent) -> list[Any]:
            return [r for r in reader.records if r.topic == f"{sent.topic}.dlq"
                    and headers_of(r).get("dlq-original-offset") == str(sent.offset)
                    and headers_of(r).get("dlq-original-partition") == str(sent.partition)]

        def refused(sent: Sent) -> list[dict]:
            try:
                return rejected(json.loads(sent.value)["id"])
            except (ValueError, TypeError, KeyError, RecursionError):  # the bad records are bad for us too
                return []

        def handled(_: Any) -> bool:
            return bool(of_type(ours(), "case.opened", customer) and rejected(decide["id"])
                        and rejected(handover["id"]) and of_type(ours(), "approval.requested", csr)
                        and [r for r in reader.records if r.topic == t.portal_case_status and r.key == claim.encode()]
                        and [e for e in of_type(ours(), "case.assigned", claim)
                             if e["data"]["actor"]["id"] == "system:routing"])

        await reader.wait_for(handled, timeout=WAIT)
        await reader.wait_for(lambda _: all(len(dead_letters(s)) == consumers[s.topic] or refused(s) for s in bad),
                              timeout=WAIT)

        outcomes = {(s.topic, s.name): "refused" if refused(s) else f"dead-lettered x{len(dead_letters(s))}"
                    for s in bad}
        print(json.dumps({f"{k[0]} / {k[1]}": v for k, v in outcomes.items()}, indent=1))
        by_name = {s.name: s for s in bad if s.topic == t.sent_by("crm").case_commands}
        assert refused(by_name["command too large"])[0]["data"]["code"] == "too_large"
        assert "over the limit of 32768 bytes" in refused(by_name["command too large"])[0]["data"]["reason"]
        assert refused(by_name["wrong types"])[0]["data"]["code"] == "invalid"
        for name in ("lone surrogate id", "3000-deep nesting", "invalid UTF-8", "NUL", "garbage headers"):
            (letter,) = dead_letters(by_name[name])
            assert letter.value == by_name[name].value and headers_of(letter)["dlq-error"]
        (big,) = dead_letters(by_name["over the limit"])
        assert "over the limit of 65536 bytes" in headers_of(big)["dlq-error"]
        assert "dlq-truncated" in headers_of(big) and len(big.value) < RECORD_BYTES
        for s in bad:
            if s.topic in (t.case_events, t.approval_events):
                assert not refused(s) and len(dead_letters(s)) == consumers[s.topic], s.name

        # The notifier read approval.requested behind the bad records of approval.events and plans john's mail.
        await reader.wait_for(lambda _: any(d["recipient"] == "john" for d in
                                            http(services["notifier"], f"/deliveries?case_id={csr}")), timeout=WAIT)
