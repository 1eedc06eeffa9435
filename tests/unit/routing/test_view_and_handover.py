"""Routing's case view (applying events, dedupe) and the hand-over checks (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from routing.core.handover import Handover, refusal
from routing.core.rules import load_rule_file
from routing.core.view import OPENED, already_applied, apply_event, parse_case_event
from shared.directory import load_directory
from shared.lifecycles import load_lifecycles

LCS, DIRECTORY = load_lifecycles(), load_directory()
RULES = load_rule_file(DIRECTORY)
AT = datetime(2026, 11, 25, tzinfo=UTC)
COMMON = {"case_id": "C", "case_type": "claim", "gbu": "marine", "account_id": "A", "actor": {"id": "carl"}}
MOVED = {"from": "new", "trigger": "manual", "category": "open", "label": "In progress"}


def apply(view, type_: str, data: dict, event_id: str):
    """apply_event on the data parsed as the contract model of `type_`, as the service does."""
    return apply_event(view, parse_case_event(type_, data), event_id, AT, LCS)


def snapshot(**kw) -> dict:
    return {"case": {"id": "C", "case_type": "claim", "gbu": "marine", "account_id": "A", "status": "new",
                     "account": {"owner": "seller.ingrid", "country": "NO"}, **kw}, **COMMON, "status": "new", "version": 1}


def test_opened_unassigned_triggers_routing_assigned_does_not() -> None:
    view, trigger = apply(None, "case.opened", snapshot(cause="technical"), "e1")
    assert trigger == OPENED and (view.cause, view.account_owner, view.country) == ("technical", "seller.ingrid", "NO")
    assert apply(None, "case.opened", snapshot(assignee="paula"), "e1")[1] is None
    assert apply(None, "case.opened", snapshot(queue="production"), "e1")[1] is None


def test_status_change_triggers_its_status_and_closing_closes() -> None:
    view, _ = apply(None, "case.opened", snapshot(), "e1")
    view, trigger = apply(view, "case.status_changed", {**COMMON, "status": "in_progress", "version": 2,
                                                              "to": "in_progress", **MOVED}, "e2")
    assert trigger == "in_progress" and view.is_open
    view, _ = apply(view, "case.closed", {**COMMON, "status": "closed", "version": 3, "reason": "solved"}, "e3")
    assert not view.is_open


def test_dedupe_by_version_and_event_id() -> None:
    view, _ = apply(None, "case.opened", snapshot(), "e1")
    view, _ = apply(view, "case.assigned", {**COMMON, "status": "new", "version": 1, "assignee": "leo"}, "e2")
    assert view.seen == ["e1", "e2"] and view.assignee == "leo"
    assert already_applied(view, "e1", 1) and already_applied(view, "e2", 1) and already_applied(view, "old", 0)
    assert not already_applied(view, "e3", 1) and not already_applied(view, "e4", 2)


def test_cause_set_later_is_kept() -> None:
    view, _ = apply(None, "case.opened", snapshot(), "e1")
    change = {"field": "cause", "before": None, "after": "logistics"}
    view, _ = apply(view, "case.updated", {**COMMON, "status": "new", "version": 2, "changes": [change],
                                  "command_type": "case.update"}, "e2")
    assert view.cause == "logistics"


def handover(actor: str, roles: list[str], **kw) -> Handover:
    return Handover(actor={"id": actor, "roles": roles}, **{"from_person": "mary", "to_person": "sam", **kw})


@pytest.mark.parametrize(("h", "code"), [
    (handover("mary", ["sales_rep"]), None),  # herself
    (handover("peter", []), None),  # her manager
    (handover("clara", ["cs_manager"]), None),  # a role allowed by the rules
    (handover("sam", ["sales_rep"]), "forbidden"),
    (handover("mary", [], from_person="ghost"), "not_found"),
    (handover("mary", [], to_person="ghost"), "not_found"),
    (handover("mary", [], to_person="mary"), "invalid"),
    (handover("mary", [], case_types=["spaceship"]), "invalid"),
])
def test_handover_checks(h: Handover, code: str | None) -> None:
    found = refusal(h, RULES, DIRECTORY, set(LCS))
    assert (found[0] if found else None) == code
