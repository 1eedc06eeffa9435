"""The staff pages in a real browser on the real stack (`make run`'s LocalStack): Debian's chromium, driven by Playwright.

A CSR that needs approval goes through Kafka until the approval e-mail is in the SMTP sink; chromium opens the
link of that e-mail, reads the case and approves; signed in on the web service, the case link of the same
e-mail shows the case moved on, with the decision in its approval history; a sales case taken from the
available ones (case.assign through Kafka as principal `web`) shows in the pipeline with its figures.
Screenshots: .local/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from stack import LocalStack  # deploy/local
from store_layout import SHARED

from shared.directory import load_directory
from shared.settings import Topics
from tests.integration.notifier.conftest import wait_for_mail
from tests.support import credentials
from tests.support.kafka_io import Producer, command

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SHOTS = ROOT / ".local" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MARY = {"id": "mary", "roles": []}  # roles come from the directory
SUBJECT, PRODUCT = "Salt-water resistant labels", "Deck light"
SALE = {"case_type": "sales", "gbu": "lighting", "account_id": "ACC-1002", "subject": "Deck lights for 12 ferries",
        "fields": {"expected_revenue": 10000, "probability": 40}}  # lighting's currency defaults to NOK
WAIT_MS = 90_000  # a loaded 2-core machine: the decision takes a few hops through Kafka


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory):
    """The whole local stack, web included, on one shared store (the fewest processes)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make setup installs it as root)")
    root = tmp_path_factory.mktemp("web-stack")
    stack = LocalStack(root / "state", log_dir=root / "logs", stores=SHARED).start()
    yield stack
    stack.stop()


def text_of(mail: EmailMessage) -> str:
    """The plain-text body of a mail."""
    part = mail.get_body(("plain",))
    return part.get_content() if part else ""


async def drive_csr_to_approval(local: LocalStack, case_id: str, sale_id: str) -> EmailMessage:
    """Open, add a product, submit, as the CRM would (and open a sales case); returns the approval e-mail."""
    topic = Topics().sent_by("crm").case_commands
    with credentials.using(local.users):
        async with Producer(local.env["KAFKA_BOOTSTRAP_SERVERS"], "crm") as crm:
            await crm.send(topic, command("case.open", sale_id, {**SALE, "actor": MARY}))
            for type_, data in [("case.open", {"case_type": "csr", "gbu": "lighting", "account_id": "ACC-1002",
                                               "subject": SUBJECT, "fields": {"requirement_category": "labelling"}}),
                                ("case.add_product", {"product_id": "P-7", "name": PRODUCT}),
                                ("case.submit", {})]:
                await crm.send(topic, command(type_, case_id, {**data, "actor": MARY}))
    john = load_directory().get("john")
    assert john is not None
    mails = await wait_for_mail(local.smtp, lambda ms: any(
        case_id in text_of(m) and "/approvals/" in text_of(m) and john.email in str(m["To"]) for m in ms), 120)
    return next(m for m in mails if case_id in text_of(m) and "/approvals/" in text_of(m))


async def sign_in(page, person: str) -> int:
    """Fill the sign-in form the page was sent to; the status of the page it lands on."""
    await page.fill("#person", person)
    async with page.expect_navigation() as landed:
        await page.click("form[action='/signin'] button[type=submit]")
    return (await landed.value).status


async def moved_on(page, before: str) -> str:
    """Reload the case page until its status is no longer `before`; the status it shows then."""
    status = page.locator("#case-status")
    for _ in range(WAIT_MS // 1000):
        if (await status.inner_text()).strip() != before:
            break
        await page.wait_for_timeout(1000)
        await page.reload()
    return (await status.inner_text()).strip()


async def test_an_approver_decides_from_the_email_and_staff_see_the_case_move_on(local):
    from playwright.async_api import async_playwright

    web, case_id, sale_id = local.env["WEB_HTTP"], f"CSR-WEB-{uuid.uuid4().hex[:8]}", f"SALE-{uuid.uuid4().hex[:8]}"
    mail = await drive_csr_to_approval(local, case_id, sale_id)
    body = text_of(mail)
    approval_link = re.search(r"https?://\S+/approvals/\S+", body).group(0)
    case_link = re.search(r"https?://\S+/cases/\S+", body).group(0)
    assert case_link == f"{web}/cases/{case_id}"  # the notifier's case links land on the web service
    SHOTS.mkdir(parents=True, exist_ok=True)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                           args=["--no-sandbox"] if os.geteuid() == 0 else [])
        try:
            # The approver: signed in on the web pages, the step waits for him.
            john = await (await browser.new_context()).new_page()
            await john.goto(f"{web}/my/approvals")
            assert await sign_in(john, "john") == 200
            assert case_id in await john.inner_text("main")
            await john.screenshot(path=str(SHOTS / "my-approvals.png"), full_page=True)

            # The e-mail's link, in its own browser context: no sign-in, the case to read, Approve.
            link_page = await (await browser.new_context()).new_page()
            opened = await link_page.goto(approval_link)
            assert opened is not None and opened.status == 200
            shown = await link_page.inner_text("body")
            assert case_id in shown and SUBJECT in shown and PRODUCT in shown, shown
            await link_page.screenshot(path=str(SHOTS / "approval-link.png"), full_page=True)
            await link_page.fill("#comment", "Fine by supply chain")
            async with link_page.expect_navigation():
                await link_page.click("button[value=approve]")
            assert "Decision sent" in await link_page.inner_text("h1")

            # Staff: the case link of the same e-mail, through sign-in, shows the case moved on.
            mary = await (await browser.new_context()).new_page()
            await mary.goto(case_link)
            assert "/signin" in mary.url
            assert await sign_in(mary, "mary") == 200
            assert mary.url == case_link
            assert await moved_on(mary, "pending_pre_approval") == "under_assessment"
            history = await mary.inner_text("#approval-history")
            assert "john" in history and "approve" in history and "pre_approval" in history
            await mary.screenshot(path=str(SHOTS / "case.png"), full_page=True)

            again = await mary.goto(case_link)  # signed in: the e-mail's link answers 200 with the case
            assert again is not None and again.status == 200 and SUBJECT in await mary.inner_text("main")
            # Take the sales case from the available ones: case.assign through Kafka as principal web.
            await mary.goto(f"{web}/cases/available")
            async with mary.expect_navigation():
                await mary.click(f"button[aria-label='Take case {sale_id}']")
            assert mary.url.startswith(f"{web}/cases/{sale_id}")
            assert await moved_on(mary, "available") == "open"
            assert "mary" in await mary.inner_text("main table")
            pipeline = await mary.goto(f"{web}/pipeline")
            assert pipeline is not None and pipeline.status == 200
            row = await mary.inner_text("main table tr:has-text('NOK')")
            assert row.split("\t") == ["lighting", "open", "NOK", "1", "10,000.00", "4,000.00", "0"], row
            await mary.screenshot(path=str(SHOTS / "pipeline.png"), full_page=True)
        finally:
            await browser.close()
