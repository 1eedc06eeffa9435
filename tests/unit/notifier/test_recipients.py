"""Recipient resolution: the case file from case events, then who the subscriptions name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from notifier.core.casefile import CaseFile, apply, moved_only, read_case_event
from notifier.core.recipients import plan
from notifier.core.subscriptions import Subscriptions, load_subscriptions

SUBS = load_subscriptions()
BASE = {"case_id": "CSR-1", "case_type": "csr", "gbu": "marine", "account_id": "ACC-1", "version": 1}


def ev(status: str, actor: str = "mary", **data) -> dict:
    return {**BASE, "status": status, "actor": {"id": actor, "roles": []}, **data}


def fold(file: CaseFile | None, event_type: str, data: dict) -> CaseFile:
    return apply(file, read_case_event(event_type, data))


def opened() -> CaseFile:
    case = {"id": "CSR-1", "subject": "Labels", "created_by": {"id": "mary", "roles": ["sales_rep"]},
            "assignee": None, "team": [{"person_id": "nina", "role": "quality"}]}
    return fold(None, "case.opened", ev("registration", case=case))


def who(event_type: str, data: dict, file: CaseFile | None) -> list[tuple[str, str, str]]:
    return [(p.recipient, p.role, p.template) for p in plan(SUBS, event_type, data, file)]


def test_case_file_follows_the_case_events():
    file = opened()
    assert (file.requester, file.subject, file.case_type, file.team) == ("mary", "Labels", "csr", {"nina": "quality"})
    file = fold(file, "case.assigned", ev("under_assessment", "system:routing", assignee="frank", version=4))
    file = fold(file, "case.team_member_added", ev("under_assessment", person_id="leo", role="logistics", version=5))
    file = fold(file, "case.updated", ev("under_assessment", changes=[{"field": "subject", "after": "New"}], version=6,
                                         command_type="case.update"))
    assert (file.assignee, file.team["leo"], file.subject, file.version) == ("frank", "logistics", "New", 6)
    stale = fold(file, "case.status_changed", ev("registration", version=2, **{"from": "under_assessment"},
                                                 to="registration", trigger="manual", category="open", label="Reg"))
    assert stale.version == 6  # an older event never moves the version back


def test_only_a_moved_status_or_version_leaves_the_file_unchanged_for_who_is_told():
    file = opened()
    assert moved_only(file, fold(file, "case.status_changed", ev(
        "in_progress", version=2, **{"from": "registration"}, to="in_progress", trigger="manual", category="open",
        label="In progress")))
    assert moved_only(file, fold(file, "case.updated", ev("registration", changes=[], command_type="case.update")))
    assert not moved_only(file, fold(file, "case.assigned", ev("registration", assignee="frank", version=2)))
    assert not moved_only(file, fold(file, "case.team_member_added", ev("registration", person_id="leo", role="x")))
    renamed = ev("registration", changes=[{"field": "subject", "after": "N"}], command_type="case.update")
    assert not moved_only(file, fold(file, "case.updated", renamed))


def test_approver_with_approval_template():
    data = {"case_id": "CSR-1", "step": "pre_approval", "approver": "john", "link": "http://a/x"}
    assert who("approval.requested", data, opened()) == [("john", "approver", "approval_requested")]
    assert who("approval.reminder", data, opened()) == [("john", "approver", "approval_reminder")]
    assert who("approval.escalated", {**data, "escalated_to": "peter"}, None) == [
        ("peter", "escalated_to", "approval_escalated")]


def test_csr_assignment_template_depends_on_the_phase():
    assess = ev("under_assessment", "system:routing", assignee="frank")
    implement = ev("under_implementation", "system:routing", assignee="frank")
    other = {**ev("open", "carl", assignee="hank"), "case_type": "helpdesk"}
    assert who("case.assigned", assess, opened()) == [("frank", "assignee", "assessment_assigned")]
    assert who("case.assigned", implement, opened()) == [("frank", "assignee", "implementation_assigned")]
    assert who("case.assigned", other, None) == [("hank", "assignee", "case_assigned")]
    assert who("case.assigned", ev("open", "carl", assignee=None), opened()) == []


def test_requester_told_of_decisions_and_closure_but_not_of_own_actions():
    file = opened()
    decided = ev("under_assessment", "system:approval", step="pre_approval", decision="approve", approver="john")
    assert who("case.approval_recorded", decided, file) == [("mary", "requester", "request_decided")]
    assert who("case.closed", ev("inactive", "frank", reason="no_longer_valid"), file) == [
        ("mary", "requester", "case_closed")]
    assert who("case.closed", ev("inactive", "mary", reason="no_longer_valid"), file) == []  # she did it


def test_case_team_on_status_changes_with_team_role_filter():
    file = fold(opened(), "case.team_member_added", ev("registration", person_id="leo", role="logistics"))
    change = ev("implemented", "frank", **{"from": "under_implementation", "to": "implemented"})
    assert sorted(who("case.status_changed", change, file)) == [
        ("leo", "case_team", "status_changed"), ("nina", "case_team", "status_changed")]
    only_quality = Subscriptions.model_validate({"rules": [
        {"event": "case.status_changed", "notify": ["case_team"], "team_roles": ["quality"], "template": "status_changed"}]})
    assert [p.recipient for p in plan(only_quality, "case.status_changed", change, file)] == ["nina"]


def test_one_mail_per_person_first_rule_wins_and_filters_apply():
    subs = Subscriptions.model_validate({"rules": [
        {"event": "case.closed", "case_types": ["claim"], "notify": ["requester"], "template": "a"},
        {"event": "case.closed", "statuses": ["inactive"], "notify": ["requester", "assignee"], "template": "b"},
        {"event": "case.closed", "notify": ["requester"], "template": "c"}]})
    file = opened().model_copy(update={"assignee": "mary"})
    planned = plan(subs, "case.closed", ev("inactive", "frank", reason="x"), file)
    assert [(p.recipient, p.template) for p in planned] == [("mary", "b")]
    assert plan(subs, "case.opened", ev("inactive", "frank"), file) == []


def test_no_case_file_means_no_case_roles():
    assert who("case.closed", ev("inactive", "frank", reason="x"), None) == []


@pytest.mark.parametrize(("event_type", "data"), [
    ("case.opened", {**ev("registration"), "case": "not a snapshot"}),
    ("case.updated", {**ev("registration"), "command_type": "x", "changes": "nope"}),
    ("case.team_member_added", ev("registration")),
    ("case.assigned", {"case_id": "C-9", "status": 3}),
])
def test_odd_case_event_payloads_are_not_read_as_case_events(event_type, data):
    with pytest.raises(ValidationError):
        read_case_event(event_type, data)


def test_a_snapshot_without_the_usual_fields_still_opens_a_file():
    file = fold(None, "case.opened", ev("registration", case={"team": "nope", "created_by": 7}))
    assert (file.case_id, file.requester, file.team, file.status) == ("CSR-1", None, {}, "registration")


def test_an_overdue_case_reminds_the_assignee_it_names_then_tells_the_escalation_target():
    file = fold(opened(), "case.assigned", ev("under_assessment", actor="system:routing", assignee="frank"))
    overdue = {"case_id": "CSR-1", "case_type": "helpdesk", "status": "open", "due_at": "2026-11-26T15:00:00Z"}
    assert who("timeframe.reminded", {**overdue, "assignee": "hank"}, file) == [("hank", "assignee", "case_overdue")]
    assert who("timeframe.reminded", {**overdue, "assignee": None, "queue": "helpdesk"}, file) == []  # nobody's yet
    assert who("timeframe.escalated", {**overdue, "assignee": "hank", "escalated_to": "clara"}, file) == [
        ("clara", "escalated_to", "case_overdue_escalated")]


def test_a_customer_message_setting_response_received_tells_the_assignee():
    file = fold(opened(), "case.assigned", ev("in_progress", actor="carl", assignee="carl"))
    message = {"message": "Here are the photos", "from_customer": True}
    replied = ev("response_received", actor="cust.ola", **message)
    assert who("case.message_received", replied, file) == [("carl", "assignee", "customer_replied")]
    assert who("case.message_received", ev("in_progress", actor="carl", **message), file) == []  # a staff note
    assert who("case.message_received", ev("response_received", actor="carl", **message), file) == []  # own note
