"""The broker and intake refuse what an unauthenticated or unauthorized client sends (issue 9, part 1 and 2)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from shared.principals import ingress_topic
from tests.support import credentials
from tests.support.journey import Journey, opening, wire  # noqa: F401  (module fixture)
from tests.support.kafka_io import Producer, TopicReader, command

pytestmark = pytest.mark.integration
CR = {"request_type": "technical_information"}


@pytest.fixture(autouse=True)
def _secured(stack):
    if not stack.users:
        pytest.skip("the broker under test is not the secured local one")


async def test_unauthenticated_producer_is_refused(settings, topics):
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=5000)
    with pytest.raises(KafkaError):  # a PLAINTEXT client cannot even finish its handshake with a SASL listener
        await asyncio.wait_for(producer.start(), 20)
        await producer.send_and_wait(ingress_topic(topics.case_commands, "crm"), b"{}")
    await producer.stop()


async def test_wrong_password_is_refused(settings, topics):
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=5000,
                                **{**credentials.options("crm"), "sasl_plain_password": "guess"})
    with pytest.raises(KafkaError):
        await asyncio.wait_for(producer.start(), 20)
    await producer.stop()


@pytest.mark.parametrize(("principal", "topic"), [
    ("portal", "case_events"),  # only intake writes case events
    ("crm", "approval_events"),  # only approval writes approval events
    ("portal", "portal_case_status"),  # only portal-sync
    ("webform", "crm-ingress"),  # a principal writes its own ingress topic only
])
async def test_principal_cannot_write_a_topic_it_does_not_own(settings, topics, principal, topic):
    name = ingress_topic(topics.case_commands, "crm") if topic == "crm-ingress" else getattr(topics, topic)
    async with Producer(settings.kafka_bootstrap_servers, principal) as producer:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send(name, command("case.opened", "X-1", {}))


async def test_portal_cannot_read_case_events(settings, topics):
    reader = TopicReader(settings.kafka_bootstrap_servers, topics.case_events, principal="portal",
                         group_prefix=settings.consumer_group_prefix)
    with pytest.raises(KafkaError):
        async with reader:
            await reader.wait_for(lambda records: False, timeout=10)


async def _refusal(wire, principal: str, cmd: dict) -> bytes:  # noqa: F811
    """Send `cmd` as `principal`; the value of the rejection naming it."""
    await wire.send(principal, cmd)
    records = await wire.reader.wait_for(lambda rs: any(
        b"command_rejected" in r.value and cmd["id"].encode() in r.value for r in rs))
    return next(r.value for r in records if b"command_rejected" in r.value and cmd["id"].encode() in r.value)


async def test_crm_may_not_speak_for_a_system_actor(wire):  # noqa: F811
    j = Journey(wire, "customer_request")
    await j.ok("case.open", "mary", **opening("customer_request", CR))
    await j.ok("case.submit", "mary")
    # {"id": "system:approval"} from crm: refused, whatever roles it claims (an id is not a role)
    cmd = command("case.record_approval", j.case_id, {"actor": {"id": "system:approval", "roles": ["system:approval"]},
                                                      "step": "approval", "decision": "approve", "approver": "peter"})
    rejection = await _refusal(wire, "crm", cmd)
    assert b'"forbidden"' in rejection and b"crm may not speak for 'system:approval'" in rejection
    assert not j.events("case.approval_recorded")


async def test_portal_may_not_speak_for_staff_or_another_accounts_customer(wire, topics):  # noqa: F811
    j = Journey(wire, "customer_request")
    await j.ok("case.open", "mary", **opening("customer_request", CR, account_id="ACC-1001"))
    cmd = command("case.add_customer_message", j.case_id, {"actor": {"id": "mary", "roles": ["sales_rep"]},
                                                            "message": "as staff"})
    other = command("case.add_customer_message", j.case_id, {"actor": {"id": "cust.hans", "roles": ["customer"]},
                                                              "message": "not my account"})
    for sent, words in ((cmd, "portal may not speak for 'mary'"), (other, "another account")):
        rejection = await _refusal(wire, "portal", sent)
        assert b'"forbidden"' in rejection and words.encode() in rejection


async def test_roles_in_the_message_change_nothing(wire):  # noqa: F811
    # "anyone" claims sales_rep: not in the directory, so crm may not speak for them at all.
    j = Journey(wire, "customer_request")
    refused = await j.no("case.open", {"id": "anyone", "roles": ["sales_rep", "admin"]}, "forbidden",
                         **opening("customer_request", CR))
    assert "anyone" in refused["reason"]
    # A real person claiming a role they lack gets only their directory roles: carl may not approve.
    k = Journey(wire, "customer_request")
    await k.ok("case.open", "mary", **opening("customer_request", CR))
    await k.no("case.record_approval", {"id": "carl", "roles": ["system:approval"]}, "forbidden",
               step="approval", decision="approve", approver="peter")
    await j.finish()
    await k.finish()


async def test_account_upsert_needs_a_directory_role(wire, topics):  # noqa: F811
    account = f"ACC-{uuid.uuid4().hex[:6]}"
    data = {"account_id": account, "name": "Forged", "owner": "mary", "actor": {"id": "mary", "roles": ["admin"]}}
    rejection = await _refusal(wire, "crm", command("account.upsert", account, data))
    assert b'"forbidden"' in rejection and b"account_admin" in rejection
