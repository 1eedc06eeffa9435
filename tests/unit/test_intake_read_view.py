"""Intake's read side, pure: the case view (sections, kinds, related lists) and the list's filters and cursor."""

from __future__ import annotations

import pytest

from intake.core import load_lifecycles
from intake.core.case_view import approval_view, case_view, history_kind, sections
from intake.core.listing import BadCursor, CaseFilter, Cursor, before, closed_statuses, item, page
from tests.support.intake_cases import entry, stored_case

LIFECYCLES = load_lifecycles()
CLOSED = closed_statuses(LIFECYCLES)
CUSTOMERS = {"cust.ola"}.__contains__


def test_history_kinds():
    assert history_kind("mary", CUSTOMERS) == "manual"
    assert history_kind("system:approval", CUSTOMERS) == "automatic"
    assert history_kind("system:routing", CUSTOMERS) == "automatic"
    assert history_kind("system:portal-sync", CUSTOMERS) == "customer"
    assert history_kind("cust.ola", CUSTOMERS) == "customer"


def test_every_lifecycle_lays_out_its_sections_with_labels():
    for case_type, lc in LIFECYCLES.items():
        laid = sections(stored_case("X-1", case_type), lc)
        assert [s["code"] for s in laid] == [s.code for s in lc.sections], case_type
        for field in (f for s in laid for f in s["fields"]):
            assert field["label"] and field["label"] != field["name"], field
    assert sections(stored_case("X-1"), None) == []


def test_case_view_leaves_history_out_of_the_case_and_keeps_it_in_order():
    case = {**stored_case("CSR-9"), "history": [{"stale": True}]}
    history = [entry("mary", "case.open", 0), entry("system:routing", "case.assign", 1, ("assignee", None, "john"))]
    view = case_view(case, history, LIFECYCLES["csr"], CUSTOMERS)
    assert "history" not in view["case"] and view["advice"] == [] and view["approval_history"] == []
    assert [(h["action"], h["kind"]) for h in view["history"]] == [("case.open", "manual"), ("case.assign", "automatic")]
    assert view["history"][1]["changes"] == [{"field": "assignee", "before": None, "after": "john"}]
    assert view["related"]["product_count"] == 0


def test_approval_entries_get_every_contract_key_and_keep_what_the_case_adds():
    shaped = approval_view([
        {"step": "approval", "decision": "approve", "approver": "john", "at": "t1", "status_before": "submitted"},
        {"step": "approval", "decision": "auto_approve", "approver": "mary", "at": "t2"},
        {"step": "final", "decision": "reject", "approver": "peter", "on_behalf_of": "clara", "at": "t3",
         "comment": "no", "kind": "manual"}])
    assert [(a["kind"], a["on_behalf_of"], a["comment"]) for a in shaped] == [
        ("manual", None, None), ("automatic", None, None), ("manual", "clara", "no")]
    assert shaped[0]["status_before"] == "submitted"


def test_filters_match_like_the_query():
    claim = stored_case("CL-1", "claim", status="closed", assignee=None)
    assert CaseFilter(is_open=False).matches(claim, CLOSED) and not CaseFilter(is_open=True).matches(claim, CLOSED)
    assert CaseFilter(assignee="none").matches(claim, CLOSED) and not CaseFilter(assignee="carl").matches(claim, CLOSED)
    assert CaseFilter(case_type="claim", gbu="marine", account="ACC-1001").matches(claim, CLOSED)
    assert not CaseFilter(queue="helpdesk").matches(claim, CLOSED)
    unknown_type = {**claim, "case_type": "gone"}  # no lifecycle: no closed status, so open
    assert CaseFilter(is_open=True).matches(unknown_type, CLOSED)


def test_cursor_round_trip_and_refusals():
    cursor = Cursor("2026-11-01T09:00:00Z", "CL-1")
    assert Cursor.decode(cursor.encode()) == cursor and "CL-1" not in cursor.encode()
    for bad in ("", "@@@", "bnVsbA", Cursor("a", "b").encode().upper()):
        with pytest.raises(BadCursor, match="^cursor:"):
            Cursor.decode(bad)


def test_page_and_before():
    rows = [stored_case(f"C-{n}", minutes=10 - n) for n in range(4)]  # newest first
    first = page(rows[:3], 2)
    assert [i["id"] for i in first["items"]] == ["C-0", "C-1"] and first["next_cursor"]
    after = Cursor.decode(first["next_cursor"])
    assert [r["id"] for r in rows if before(r, after)] == ["C-2", "C-3"]
    assert page(rows[2:], 2)["next_cursor"] is None
    tie = [stored_case("B", minutes=1), stored_case("A", minutes=1)]  # same time: the id orders
    assert [r["id"] for r in tie if before(r, Cursor.after(tie[0]))] == ["A"]
    assert item(stored_case("H-1", "helpdesk", fields={"due_date": "2026-12-01"}))["due_date"] == "2026-12-01"
