"""person.upsert on intake: who may send it, what it stores and publishes, and that identity checks see it at once."""

from __future__ import annotations

import json

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from intake.inject import register
from shared.principals import ingress_topic
from shared.runtime.marks import PublishedMarks
from shared.runtime.people import FollowedDirectory
from shared.settings import Settings
from tests.support.capture import capture
from tests.support.kafka_io import command
from tests.support.memory_store import MemoryCaseStore

ADMIN = {"id": "ada"}  # admin and directory_admin in the people directory
NEWBIE = {"id": "new.rita", "name": "Rita New", "email": "rita@example.com", "roles": ["sales_rep"],
          "groups": ["sales-lighting"], "manager": "peter"}
OPEN = {"case_type": "customer_request", "gbu": "lighting", "account_id": "ACC-1001", "subject": "Packaging",
        "fields": {"request_type": "documentation"}, "actor": {"id": "new.rita"}}


@pytest.fixture
def settings() -> Settings:
    return Settings(service_name="intake", topic_prefix="hp.")


@pytest.fixture
def store() -> MemoryCaseStore:
    return MemoryCaseStore()


@pytest.fixture
def people() -> FollowedDirectory:
    return FollowedDirectory()


@pytest.fixture
async def harness(settings, store, people):
    broker = KafkaBroker()
    register(broker, settings, store, PublishedMarks(), people)
    topics = settings.topics
    seen = capture(broker, {"events": topics.case_events, "rejections": topics.case_rejections})

    async def send(cmd: dict, principal: str = "crm") -> None:
        await test_broker.publish(json.dumps(cmd).encode(), ingress_topic(topics.case_commands, principal),
                                  key=cmd["subject"].encode())

    async with TestKafkaBroker(broker) as test_broker:
        yield send, seen


def codes(seen: dict) -> list[tuple[str, str]]:
    return [(r["data"]["code"], r["data"]["reason"]) for r in seen["rejections"]]


async def test_an_admin_gives_a_new_person_a_role_and_their_command_is_then_accepted(harness, store, people):
    send, seen = harness
    await send(command("case.open", "CR-P1", OPEN))
    assert [c for c, _ in codes(seen)] == ["forbidden"]  # not in the directory yet
    await send(command("person.upsert", "new.rita", {**NEWBIE, "actor": ADMIN}))
    (event,) = [e for e in seen["events"] if e["type"] == "person.upserted"]
    assert event["subject"] == "new.rita" and event["data"]["roles"] == ["sales_rep"]
    assert store.people["new.rita"]["email"] == "rita@example.com"
    assert people().roles_of("new.rita") == ["sales_rep"]
    await send(command("case.open", "CR-P2", {**OPEN, "actor": {"id": "new.rita", "roles": ["admin"]}}))
    (opened,) = [e for e in seen["events"] if e["type"] == "case.opened"]
    assert opened["data"]["actor"] == {"id": "new.rita", "roles": ["sales_rep"]}  # the directory's roles


async def test_an_upsert_replaces_the_person_roles_included(harness, people):
    send, seen = harness
    await send(command("person.upsert", "mary", {"id": "mary", "name": "Mary Jensen", "email": "mary@example.com",
                                                 "actor": ADMIN}))
    assert people().roles_of("mary") == [] and people().get("mary").groups == []
    await send(command("case.open", "CR-P3", {**OPEN, "actor": {"id": "mary", "roles": ["sales_rep"]}}))
    assert [e for e in seen["events"] if e["type"] == "case.opened"] == []


@pytest.mark.parametrize(("principal", "actor", "reason"), [
    ("crm", {"id": "mary"}, "Only admin, directory_admin may send person.upsert"),  # a sales_rep
    ("crm", {"id": "peter"}, "Only admin, directory_admin"),  # a sales_manager may upsert accounts, not people
    ("crm", {"id": "mary", "roles": ["admin"]}, "Only admin, directory_admin"),  # claimed roles are ignored
    ("portal", {"id": "ada"}, "may not speak for"),  # the portal speaks for customers only
    ("webform", {"id": "ada"}, "may not speak for"),
])
async def test_person_upsert_is_forbidden_unless_an_admin_speaks_through_its_principal(
        harness, store, people, principal, actor, reason):
    send, seen = harness
    await send(command("person.upsert", "new.rita", {**NEWBIE, "actor": actor}), principal)
    ((code, why),) = codes(seen)
    assert code == "forbidden" and reason in why
    assert store.people == {} and people().get("new.rita") is None
    assert [e for e in seen["events"] if e["type"] == "person.upserted"] == []


@pytest.mark.parametrize(("subject", "data", "reason"), [
    ("new.rita", {k: v for k, v in NEWBIE.items() if k != "email"}, "email"),
    ("new.rita", {**NEWBIE, "roles": "admin"}, "roles"),
    ("new.rita", {**NEWBIE, "password": "x"}, "password"),
    ("someone.else", NEWBIE, "subject of a person.upsert must be its id"),
])
async def test_an_invalid_person_upsert_is_refused_with_a_reason(harness, store, subject, data, reason):
    send, seen = harness
    await send(command("person.upsert", subject, {**data, "actor": ADMIN}))
    ((code, why),) = codes(seen)
    assert code == "invalid" and reason in why
    assert store.people == {}


async def test_a_person_upsert_is_applied_once_per_command_id(harness, store, people):
    send, seen = harness
    first = command("person.upsert", "new.rita", {**NEWBIE, "actor": ADMIN})
    await send(first)
    await send(command("person.upsert", "new.rita", {**NEWBIE, "roles": ["tech_team"], "actor": ADMIN}))
    await send(first)  # sent again later: the first result stands, the newer upsert is not undone
    assert store.people["new.rita"]["roles"] == ["tech_team"] and people().roles_of("new.rita") == ["tech_team"]
    assert [e["data"]["roles"] for e in seen["events"] if e["type"] == "person.upserted"] == [["sales_rep"],
                                                                                               ["tech_team"]]
