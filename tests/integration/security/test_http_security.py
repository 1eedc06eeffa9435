"""Authorized HTTP on the real broker and store, services running as processes (issue 9, item 3).

A customer's cross-account portal read is refused; a 10 MB body gets 413 without the service falling over;
tokens that are missing, forged or expired get 401; staff read what staff may, customers do not.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from oidc_issuer import Issuer

from shared.settings import Settings
from tests.support.env import service_env
from tests.support.kafka_io import Producer, TopicReader
from tests.support.oidc import bearer, dev_issuer
from tests.support.service_process import ServiceProcess
from tests.unit.portal_sync.events import opened

pytestmark = pytest.mark.integration
OLA, HANS = "cust.ola", "cust.hans"  # the directory's customers of ACC-1001 and ACC-1002


def call(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of one request; 4xx/5xx are answers here, not exceptions."""
    req = urllib.request.Request(url, method=method, data=body,
                                 headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def start(module: str, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> ServiceProcess:
    return ServiceProcess(module, service_env(settings), tmp_path_factory.mktemp(module) / f"{module}.log").start()


@pytest.fixture(scope="module")
def services(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    """portal-sync, routing and the notifier as processes, accepting the session issuer's tokens."""
    procs = {name: start(module, settings, tmp_path_factory)
             for name, module in (("portal", "portal_sync"), ("routing", "routing"), ("notifier", "notifier"))}
    yield procs
    for proc in procs.values():
        proc.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cases(settings: Settings, services) -> AsyncIterator[dict[str, str]]:  # noqa: ARG001
    """A claim of each customer's account, on case.events and projected by portal-sync."""
    ids = {OLA: f"CL-{uuid.uuid4().hex[:10]}", HANS: f"CL-{uuid.uuid4().hex[:10]}"}
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topics.portal_case_status) as reader:
        async with Producer(settings.kafka_bootstrap_servers) as producer:
            for who, account in ((OLA, "ACC-1001"), (HANS, "ACC-1002")):
                event = opened(ids[who], "claim", account_id=account)
                await producer.send(settings.topics.case_events, json.loads(event.to_bytes()))
        await reader.wait_for(lambda rs: {json.loads(r.value)["subject"] for r in rs} >= set(ids.values()), 60)
    yield ids


async def test_a_customer_cannot_read_another_accounts_cases(services, cases):
    portal = services["portal"].url
    status, _, mine = call("GET", f"{portal}/accounts/ACC-1001/cases", headers=bearer(OLA))
    assert status == 200 and cases[OLA] in {c["case_id"] for c in mine["cases"]}
    status, _, refused = call("GET", f"{portal}/accounts/ACC-1001/cases", headers=bearer(HANS))
    assert status == 403 and "own account" in refused["error"]
    assert call("GET", f"{portal}/cases/{cases[OLA]}", headers=bearer(HANS))[0] == 404
    assert call("GET", f"{portal}/cases/{cases[OLA]}", headers=bearer(OLA))[0] == 200
    # Nor write on it, nor speak as someone else on their own.
    message = json.dumps({"message": "cancel it"}).encode()
    assert call("POST", f"{portal}/cases/{cases[OLA]}/messages", message, bearer(HANS))[0] == 404
    spoof = json.dumps({"message": "hi", "customer_id": OLA}).encode()
    assert call("POST", f"{portal}/cases/{cases[HANS]}/messages", spoof, bearer(HANS))[0] == 403


async def test_staff_read_any_account_and_the_staff_read_models(services, cases):
    portal, routing, notifier = (services[n].url for n in ("portal", "routing", "notifier"))
    status, _, listed = call("GET", f"{portal}/accounts/ACC-1002/cases", headers=bearer("carl"))
    assert status == 200 and cases[HANS] in {c["case_id"] for c in listed["cases"]}
    assert call("GET", f"{routing}/people/mary/cases", headers=bearer("mary"))[0] == 200
    assert call("GET", f"{notifier}/deliveries?case_id={cases[OLA]}", headers=bearer("clara"))[:3:2] == (200, [])
    assert call("GET", f"{routing}/people/mary/cases", headers=bearer(OLA))[0] == 403
    assert call("GET", f"{notifier}/deliveries?case_id={cases[OLA]}", headers=bearer(OLA))[0] == 403


async def test_missing_forged_and_expired_tokens_get_401(services, cases, tmp_path):
    portal = services["portal"].url
    forger = Issuer(tmp_path)  # a key pair of its own, claiming to be the real issuer
    forger.url = dev_issuer().issuer
    expired = dev_issuer().mint(OLA, exp=int(time.time()) - 3600)
    for headers in ({}, {"Authorization": f"Bearer {forger.mint(OLA)}"}, {"Authorization": f"Bearer {expired}"},
                    {"Authorization": "Basic b2xhOm9sYQ=="}):
        status, answer_headers, body = call("GET", f"{portal}/cases/{cases[OLA]}", headers=headers)
        assert status == 401 and answer_headers["www-authenticate"].startswith("Bearer"), (headers, body)
    assert call("GET", f"{portal}/readyz")[0] == 200  # probes need no token


def post_partially(url: str, headers: dict[str, str], chunks: list[bytes], chunked: bool) -> tuple[int, dict]:
    """Send the head of a big body, then read the answer: a service that waited for all of it would hang here."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest("POST", parts.path)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    try:
        for chunk in chunks:
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
    except OSError:  # the service answered and closed before taking it all: what we want
        pass
    resp = conn.getresponse()
    answer = (resp.status, json.loads(resp.read()))
    conn.close()
    return answer


async def test_a_10_mb_body_gets_413_without_being_read_whole(services, cases):
    url = f"{services['portal'].url}/cases/{cases[OLA]}/messages"
    head = [b"x" * 65536] * 4  # 256 KiB of the 10 MB: the answer must come before the rest is sent
    declared = {**bearer(OLA), "content-type": "application/json", "content-length": str(10 * 1024 * 1024)}
    status, body = post_partially(url, declared, head, chunked=False)
    assert status == 413 and "limit" in body["error"]
    streamed = {**bearer(OLA), "content-type": "application/json", "transfer-encoding": "chunked"}
    status, body = post_partially(url, streamed, head, chunked=True)  # no length: counted as it arrives
    assert status == 413 and "limit" in body["error"]
    assert call("GET", f"{services['portal'].url}/readyz")[0] == 200  # and the service is still there


async def test_deep_json_gets_400_not_500(services, cases):
    url = f"{services['portal'].url}/cases/{cases[OLA]}/messages"
    status, _, body = call("POST", url, b"[" * 20_000 + b"]" * 20_000, bearer(OLA))
    assert status == 400 and "nested deeper" in body["error"]
