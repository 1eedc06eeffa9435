"""Template rendering: every template renders, links appear in text and HTML, HTML is escaped."""

from __future__ import annotations

import pytest

from notifier.core.delivery import backoff, delivery_id, message_id
from notifier.core.render import Renderer, case_link

RENDERER = Renderer()
APPROVE_LINK = "https://approvals.example.com/decide/ap-1?token=t0k&step=pre_approval"


def context(**data) -> dict:
    link = data.pop("link", None) or case_link("https://crm.example.com/", "CSR-1")
    return {"person": {"id": "john", "name": "John Dahl"}, "role": "approver", "event_type": "x",
            "case": {"case_id": "CSR-1", "subject": "Labels <b>bold</b>", "case_type": "csr"},
            "data": {"step": "pre_approval", "decision": "approve", "approver": "john", "reason": "completed",
                     "from": "registration", "to": "implemented", "label": "Implemented", **data},
            "link": link, "case_link": case_link("https://crm.example.com/", "CSR-1")}


@pytest.mark.parametrize("name", sorted(RENDERER.names()))
def test_every_template_renders_with_its_link_in_both_parts(name):
    out = RENDERER.render(name, context())
    assert out.subject and "\n" not in out.subject
    assert "https://crm.example.com/cases/CSR-1" in out.text
    assert 'href="https://crm.example.com/cases/CSR-1"' in out.html
    assert "John Dahl" in out.text and "John Dahl" in out.html
    assert "<b>bold</b>" not in out.html  # case data is escaped in HTML
    assert not out.text.startswith("Subject:")


def test_approval_link_is_the_decision_link_verbatim():
    out = RENDERER.render("approval_requested", context(link=APPROVE_LINK, due_at="2026-11-30T12:00:00Z"))
    assert APPROVE_LINK in out.text
    assert 'href="https://approvals.example.com/decide/ap-1?token=t0k&amp;step=pre_approval"' in out.html
    assert "2026-11-30" in out.text and "pre_approval" in out.subject


def test_decision_wording_follows_the_decision():
    assert "approved" in RENDERER.render("request_decided", context()).subject
    assert "rejected" in RENDERER.render("request_decided", context(decision="reject")).subject
    recalled = RENDERER.render("request_decided", context(decision="recall", approver="mary"))
    assert "withdrawn" in recalled.subject and "rejected" not in recalled.text + recalled.html  # the submitter withdrew
    assert "was withdrawn by mary" in recalled.text and "<b>withdrawn</b> by mary" in recalled.html


def test_template_without_subject_line_is_refused(tmp_path):
    (tmp_path / "t.txt.j2").write_text("no subject\n")
    (tmp_path / "t.html.j2").write_text("<p/>")
    with pytest.raises(ValueError, match="Subject"):
        Renderer(tmp_path).render("t", {})


def test_case_link_and_ids():
    assert case_link("http://h:1/", "C-1") == "http://h:1/cases/C-1"
    assert delivery_id("e1", "mary") == delivery_id("e1", "mary") != delivery_id("e1", "john")
    assert message_id("abc", "example.com") == "<abc@example.com>"


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n, 2, 20).total_seconds() for n in range(1, 6)] == [2, 4, 8, 16, 20]
