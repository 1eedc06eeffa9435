"""person.upsert on the real broker: an admin gives a new person a role through crm; intake and routing see it."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.settings import Settings
from tests.support.env import service_env
from tests.support.journey import Journey, opening, wire  # noqa: F401  (module fixture)
from tests.support.kafka_io import command
from tests.support.oidc import bearer, dev_issuer
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration
CR = {"request_type": "technical_information"}


@pytest.fixture(scope="module")
def routing(settings: Settings, intake: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """Routing as a real process: it follows person.upserted on case.events."""
    proc = ServiceProcess("routing", service_env(settings), tmp_path_factory.mktemp("routing") / "routing.log")
    proc.start()
    yield proc
    proc.stop()


def status(proc: ServiceProcess, path: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{proc.url}{path}", headers=headers), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


async def eventually(check: Any, want: int, timeout: float = 30.0) -> int:
    got = None
    for _ in range(int(timeout / 0.25)):
        got = await asyncio.to_thread(check)
        if got == want:
            break
        await asyncio.sleep(0.25)
    return got


async def test_an_admin_upsert_gives_a_new_person_a_role_that_intake_and_routing_honour(wire, routing):  # noqa: F811
    person = f"new.{uuid.uuid4().hex[:8]}"
    newcomer = {"id": person, "roles": ["admin"]}  # claimed roles are never read
    as_them = {"Authorization": f"Bearer {dev_issuer().mint(person, check=False)}"}
    assert (await Journey(wire, "customer_request").no("case.open", newcomer, "forbidden",
                                                        **opening("customer_request", CR)))["reason"]
    assert status(routing, f"/people/{person}/cases", bearer("carl")) == 404
    assert status(routing, "/rules", as_them) == 403  # the HTTP principal lookup does not know them either

    upsert = command("person.upsert", person, {"id": person, "name": "Rita New", "email": "rita@example.com",
                                               "roles": ["sales_rep"], "groups": [], "actor": {"id": "ada"}})
    await wire.send("crm", upsert)
    records = await wire.reader.wait_for(lambda rs: any(
        b"person.upserted" in r.value and upsert["id"].encode() in r.value for r in rs), timeout=30)
    event = next(json.loads(r.value) for r in records if b"person.upserted" in r.value
                 and upsert["id"].encode() in r.value)
    assert event["subject"] == person and event["data"]["roles"] == ["sales_rep"]

    j = Journey(wire, "customer_request")
    (opened,) = [e for e in await j.ok("case.open", newcomer, **opening("customer_request", CR))
                 if e["type"] == "case.opened"]
    assert opened["data"]["actor"] == {"id": person, "roles": ["sales_rep"]}
    submitted = await j.ok("case.submit", newcomer, expect=("case.status_changed",))
    # approved at once: only a sales_rep's submission skips the approval, so the directory's role was used
    assert [e["data"]["to"] for e in submitted if e["type"] == "case.status_changed"] == ["approved"]
    await j.finish()

    assert await eventually(lambda: status(routing, f"/people/{person}/cases", bearer("carl")), 200) == 200
    assert await eventually(lambda: status(routing, "/rules", as_them), 200) == 200  # now staff to routing's HTTP
