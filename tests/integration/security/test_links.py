"""Approval links on the real broker and store: intake, approval and the notifier as processes, mail through SMTP.

A link from a real mail decides once through the page's CSRF-protected form; a replayed, expired, tampered,
forged or garbled token is refused; approval does not start with a published or short secret.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio

from approval.core import Linker
from shared.contract.envelope import now_utc
from shared.settings import Settings, Topics
from tests.integration.notifier.conftest import smtp, wait_for_mail  # noqa: F401  (module fixture)
from tests.support.env import service_env
from tests.support.journey import Journey, wire  # noqa: F401  (module fixture)
from tests.support.kafka_io import TopicReader
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration

SECRET = "integration-link-secret-of-at-least-32-bytes"
PUBLIC = "http://approvals.test"  # approval's public address, as mailed; the test reaches the process directly
MARY = {"id": "mary", "roles": []}
CSR = {"requirement_category": "labelling", "main_shipping_site": "Bergen"}


@pytest.fixture(scope="module")
def approval(intake: object, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """Approval with this deployment's own secret (DEV_MODE off: the secret is long enough)."""
    env = service_env(settings, PUBLIC_BASE_URL=PUBLIC, LINK_SECRET=SECRET, DEV_MODE="false")
    proc = ServiceProcess("approval", env, tmp_path_factory.mktemp("approval") / "approval.log").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def notifier(approval: ServiceProcess, settings: Settings, smtp,  # noqa: F811
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The notifier, building approval links under approval's public address; it holds no link secret."""
    env = service_env(settings, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), APPROVAL_PUBLIC_URL=PUBLIC,
                      NOTIFY_SWEEP_SECONDS="0.3", LINK_SECRET="")
    proc = ServiceProcess("notifier", env, tmp_path_factory.mktemp("notifier") / "notifier.log").start()
    yield proc
    proc.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def approval_events(settings: Settings, topics: Topics) -> AsyncIterator[TopicReader]:
    """Everything approval publishes."""
    async with TopicReader(settings.kafka_bootstrap_servers, topics.approval_events,
                           group_prefix=settings.consumer_group_prefix) as reader:
        yield reader


def form_token(page: httpx.Response) -> str:
    return page.json()["decide"]["fields"]["csrf_token"]


JSON = {"accept": "application/json"}


async def test_a_mailed_link_decides_once_and_bad_tokens_are_refused(wire, approval, notifier, smtp,  # noqa: F811
                                                                     approval_events):
    case = Journey(wire, "csr")
    await case.ok("case.open", MARY, expect=("case.opened",), case_type="csr", gbu="marine", account_id="ACC-1001",
                  subject="Labels", fields=CSR)
    await case.ok("case.add_product", MARY, product_id="P-1", name="Luminaire")
    await case.ok("case.submit", MARY, expect=("case.status_changed",))

    mails = await wait_for_mail(smtp, lambda ms: any(case.case_id in (m["Subject"] or "") + str(m) for m in ms))
    [mail] = [m for m in mails if case.case_id in str(m)]
    assert mail["To"] == "john@example.com"
    text = mail.get_body(("plain",)).get_content()
    [link] = {u for u in re.findall(r"https?://\S+", text) if "/approvals/" in u}
    assert link.startswith(f"{PUBLIC}/approvals/")
    token = link.rsplit("/", 1)[1]
    path = f"/approvals/{token}"

    with httpx.Client(base_url=approval.url, timeout=10) as browser:
        html = browser.get(path)
        assert html.status_code == 200 and "<form" in html.text and case.case_id in html.text
        assert "samesite=strict" in html.headers["set-cookie"].lower()
        # Each page view sets a new cookie with its form token; the JSON view is the last one, so its token counts.
        page = browser.get(path, headers=JSON)
        assert page.status_code == 200 and (page.json()["case_id"], page.json()["approver"]) == (case.case_id, "john")
        # no CSRF token (the old bare POST) and a token without the page's cookie: refused, nothing sent
        assert browser.post(f"{path}/decide?decision=approve").status_code == 403
        with httpx.Client(base_url=approval.url, timeout=10) as other_site:
            assert other_site.post(f"{path}/decide", data={"decision": "approve",
                                                           "csrf_token": form_token(page)}).status_code == 403
        sent = browser.post(f"{path}/decide", headers=JSON,
                            data={"decision": "approve", "comment": "Fine", "csrf_token": form_token(page)})
        assert sent.status_code == 202 and sent.json()["status"] == "sent"
        replay = browser.post(f"{path}/decide", headers=JSON,
                              data={"decision": "reject", "csrf_token": form_token(page)})
        assert replay.status_code == 409 and replay.json()["code"] == "used"
        assert browser.get(path, headers=JSON).status_code == 409

    await wire.reader.wait_for(lambda _: any(e["data"]["to"] == "under_assessment"
                                             for e in case.events("case.status_changed")), timeout=60)
    def decided(records: list) -> list:
        return [e for e in records if case.case_id.encode() in e.value and b"approval.decided" in e.value]

    await approval_events.wait_for(lambda records: len(decided(records)) >= 1, timeout=60)
    await approval_events.quiet(2)  # a second decision, if the link had sent one, would be here by now
    assert len(decided(approval_events.records)) == 1  # one decision, however often the link was posted

    # tokens for the same step and person that are not the mailed one
    claim_step = page.json()["approval_id"]
    signature = token.rsplit(".", 1)[1]
    tampered = token.rsplit(".", 1)[0] + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    past = Linker(SECRET, PUBLIC, ttl=timedelta(days=14), clock=lambda: now_utc() - timedelta(days=15))
    expired = past.token(case.case_id, claim_step, "john")
    forged = Linker("an-attackers-guess-of-32-bytes-or-more", PUBLIC).token(case.case_id, claim_step, "john")
    with httpx.Client(base_url=approval.url, timeout=10) as browser:
        for bad, status in ((tampered, 404), (forged, 404), (expired, 410), ("%C3%A9." + "x" * 24, 400),
                            ("not-a-token", 400)):
            got = browser.get(f"/approvals/{bad}", headers=JSON)
            assert got.status_code == status and got.json()["error"], (bad, got.status_code, got.text)
            posted = browser.post(f"/approvals/{bad}/decide", data={"decision": "approve", "csrf_token": "x"})
            assert posted.status_code == status


def test_approval_refuses_to_start_with_a_published_or_short_secret(settings: Settings):
    for secret in ("change-me", "", "short"):
        env = service_env(settings, LINK_SECRET=secret, DEV_MODE="false", HTTP_PORT="0")
        done = subprocess.run([sys.executable, "-m", "approval"], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "refusing to start" in done.stderr, done.stderr[-2000:]
