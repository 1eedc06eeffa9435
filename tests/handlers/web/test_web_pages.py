"""The staff pages on fake APIs: sign-in, the session, CSRF, the case page, lists, approvals, the pipeline."""

from __future__ import annotations

import pytest

HOSTILE = '<script>alert("x")</script>'


def a_case(case_id: str = "CSR-1", **case: object) -> dict:
    return {"case": {"id": case_id, "case_type": "csr", "status": "registration", "gbu": "lighting",
                     "account_id": "ACC-1002", "subject": "Labels", "assignee": None, **case},
            "sections": [{"title": "Requirement", "fields": [{"name": "description", "label": "Description",
                                                              "value": HOSTILE}]}],
            "related": {"products": [{"product_id": "P-7", "name": "Deck light"}], "product_count": 1,
                        "accounts": [], "shipping_sites": [], "team": [{"person_id": "nina", "role": "assessor"}],
                        "sample_requests": []},
            "approval_history": [{"step": "pre_approval", "approver": "john", "on_behalf_of": None,
                                  "decision": "approve", "comment": HOSTILE, "at": "2026-11-30T10:00:00Z",
                                  "kind": "manual"}],
            "history": [{"at": "2026-11-30T09:00:00Z", "actor": "mary", "action": "case.open", "kind": "manual",
                         "changes": [{"field": "status", "to": "registration"}]}],
            "advice": [{"code": "product_needed", "message": "Add a product before you submit.",
                        "at": "2026-11-30T09:00:00Z"}]}


@pytest.mark.parametrize("path", ["/cases/CSR-1", "/my/cases", "/cases/available", "/my/approvals", "/pipeline"])
async def test_every_page_sends_an_anonymous_browser_to_sign_in_and_back(web, path):
    reply = await web.client.get(path)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/signin?next=" + path.replace("/", "%2F")


async def test_sign_in_sets_a_strict_http_only_session_and_goes_back(web):
    web.intake.cases_by_id["CSR-1"] = a_case()
    reply = await web.sign_in("mary", "/cases/CSR-1")
    assert reply.status_code == 303 and reply.headers["location"] == "/cases/CSR-1"
    cookie = next(c for c in reply.headers.get_list("set-cookie") if c.startswith("web_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    page = await web.client.get("/cases/CSR-1")
    assert page.status_code == 200 and "Signed in as <strong>mary</strong>" in page.text
    assert web.intake.calls[-1][1]["token"] == web.client.cookies["web_session"]  # the person's own token
    assert (await web.client.get("/signin?next=/pipeline")).headers["location"] == "/pipeline"


async def test_sign_in_refuses_a_forged_form_customers_and_strangers(web):
    forged = await web.client.post("/signin", data={"person": "mary", "csrf_token": "0" * 64, "next": "/"})
    assert forged.status_code == 403 and "web_session" not in web.client.cookies
    assert (await web.sign_in("cust.ola")).status_code == 403  # a customer's contact: not for these pages
    stranger = await web.sign_in("nobody-at-all")
    assert stranger.status_code == 403 and "not in the people directory" in stranger.text


async def test_sign_in_never_redirects_to_another_site(web):
    assert (await web.sign_in("mary", "//evil.example/x")).headers["location"] == "/my/cases"
    form = await web.client.get("/signin", params={"next": "https://evil.example/"})
    assert form.headers["location"] == "/my/cases"  # signed in already: straight home, not away


async def test_a_session_that_no_longer_verifies_is_sent_to_sign_in(web):
    web.client.cookies.set("web_session", "not-a-token", domain="web.test")
    assert (await web.client.get("/my/cases")).status_code == 303
    await web.sign_in()
    web.intake.refuse = 401  # intake says the token ran out
    assert (await web.client.get("/my/cases")).headers["location"] == "/signin?next=%2Fmy%2Fcases"


async def test_the_case_page_shows_everything_escaped_with_the_security_headers(web):
    web.intake.cases_by_id["CSR-1"] = a_case(subject=HOSTILE)
    await web.sign_in()
    page = await web.client.get("/cases/CSR-1")
    assert page.status_code == 200 and "<script>" not in page.text
    assert page.text.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 3  # subject, field, comment
    for text in ("Products (1)", "Deck light", "Approval history", "pre_approval", "Add a product before you submit.",
                 "case.open", 'lang="en"', '<th scope="row">Description</th>'):
        assert text in page.text, text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


async def test_an_unknown_case_is_a_404_page(web):
    await web.sign_in()
    page = await web.client.get("/cases/NOPE-1")
    assert page.status_code == 404 and "Not found" in page.text
    web.intake.refuse = 503
    assert (await web.client.get("/cases/CSR-1")).status_code == 502


async def test_take_needs_the_pages_csrf_token_and_sends_case_assign_for_the_person(web):
    web.intake.listing = [{"id": "HD-1", "case_type": "helpdesk", "subject": HOSTILE, "assignee": None}]
    await web.sign_in("hank")
    refused = await web.client.post("/cases/HD-1/take", data={"csrf_token": "f" * 64})
    assert refused.status_code == 403 and web.commands.sent == []
    page = await web.client.get("/cases/available")
    assert "&lt;script&gt;" in page.text and 'aria-label="Take case HD-1"' in page.text
    token = await web.csrf_of("/cases/available")
    taken = await web.client.post("/cases/HD-1/take", data={"csrf_token": token})
    assert taken.status_code == 303 and taken.headers["location"] == "/cases/HD-1?sent=1"
    assert web.commands.sent == [("HD-1", "hank")]


async def test_another_persons_csrf_token_is_refused(web):
    await web.sign_in("hank")
    hanks = await web.csrf_of("/my/cases")
    web.client.cookies.clear()  # mary, in another browser
    await web.sign_in("mary")
    assert (await web.client.post("/cases/HD-1/take", data={"csrf_token": hanks})).status_code == 403


async def test_my_cases_and_available_list_what_intake_answers_with_paging(web):
    web.intake.listing = [{"id": f"C-{i}", "case_type": "helpdesk", "assignee": "mary" if i % 2 else None}
                          for i in range(6)]
    await web.sign_in("mary")
    mine = await web.client.get("/my/cases")
    assert "C-1" in mine.text and "C-2" not in mine.text and "Older cases" in mine.text
    assert web.intake.calls[-1][1] == {"assignee": "mary", "open": "true", "limit": "50", "cursor": ""}
    older = await web.client.get("/my/cases?cursor=page-2")
    assert "C-5" in older.text and "Older cases" not in older.text


async def test_my_approvals_link_to_approvals_own_page(web):
    web.approval.items = [{"case_id": "CSR-1", "approval_id": "a1", "step": "pre_approval", "case_type": "csr",
                           "gbu": "lighting", "subject": HOSTILE, "opened_at": "2026-11-30T10:00:00Z",
                           "escalate_at": None, "link": "/approvals/tok.en"},
                          {"case_id": "CSR-2", "approval_id": "a2", "step": "final_approval", "link": "javascript:x"}]
    await web.sign_in("john")
    page = await web.client.get("/my/approvals")
    assert 'href="http://approval.test/approvals/tok.en"' in page.text and "javascript:" not in page.text
    assert "&lt;script&gt;" in page.text


async def test_the_pipeline_sums_open_sales_cases_per_gbu_and_stage_over_every_page(web):
    sales = [("lighting", "open", 1000, 50), ("lighting", "open", 3000, 25), ("lighting", "available", None, None),
             ("coatings", "open", 200, 100)]
    web.intake.listing = [{"id": f"S-{i}", "case_type": "sales", "gbu": g, "status": s, "assignee": "peter",
                           "fields": {"expected_revenue": r, "probability": p, "currency": "NOK"}} for i, (g, s, r, p) in enumerate(sales)]
    web.intake.listing.append({"id": "HD-9", "case_type": "helpdesk", "gbu": "lighting", "status": "open"})
    await web.sign_in("peter")
    page = await web.client.get("/pipeline")
    assert page.status_code == 200
    assert "<td>open</td><td>NOK</td><td class=\"num\">2</td>\n<td class=\"num\">4,000.00</td><td class=\"num\">1,250.00</td>" \
        in page.text
    assert "coatings" in page.text and "200.00" in page.text
    assert [c[1].get("cursor") for c in web.intake.calls if c[0] == "cases"] == ["", "page-2"]


async def test_sign_out_needs_the_csrf_token_and_forgets_the_session(web):
    await web.sign_in()
    assert (await web.client.post("/signout", data={"csrf_token": "x"})).status_code == 403
    token = await web.csrf_of("/my/cases")
    out = await web.client.post("/signout", data={"csrf_token": token})
    assert out.status_code == 303 and "web_session" not in web.client.cookies
    assert (await web.client.get("/my/cases")).status_code == 303
