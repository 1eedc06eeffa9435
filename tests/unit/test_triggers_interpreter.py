"""`triggers_for` interprets the trigger table: the shipped rules, and each condition on its own."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from intake.core.case import Case
from intake.core.trigger_rules import TriggerRules
from intake.core.triggers import TriggerGroup, triggers_for
from shared.contract.commands import COMMAND_TYPES
from shared.contract.envelope import Actor

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
REP, CS, CUSTOMER = Actor(id="rep", roles=["sales_rep"]), Actor(id="cs", roles=["customer_service"]), \
    Actor(id="cu", roles=["customer"])
ALWAYS = TriggerGroup(("resolution_filled",))


def _case(creator: Actor = CS, assignee: str | None = None) -> Case:
    return Case(id="C-1", case_type="customer_request", gbu="g", account_id="A", subject="s", status="open",
                version=1, created_at=NOW, updated_at=NOW, created_by=creator, assignee=assignee)


def _fire(command_type: str, actor: Actor = CS, case: Case | None = None, rules=None, **data):
    model = COMMAND_TYPES[command_type].model_construct(actor=actor, **data)
    return triggers_for(command_type, model, actor, case or _case(), rules)


def test_open_fires_opened_then_assigned_only_with_an_assignee():
    assert _fire("case.open") == [TriggerGroup(("opened",)), ALWAYS]
    assert _fire("case.open", case=_case(assignee="bob")) == [TriggerGroup(("opened",)), TriggerGroup(("assigned",)),
                                                               ALWAYS]


def test_submit_offers_the_sales_rep_shortcut_only_when_the_creator_is_a_sales_rep():
    assert _fire("case.submit", actor=REP) == [TriggerGroup(("submitted",), required=True), ALWAYS]
    assert _fire("case.submit", case=_case(creator=REP)) == [
        TriggerGroup(("submitted_by_sales_rep", "submitted"), required=True), ALWAYS]


@pytest.mark.parametrize(("decision", "trigger"), [("approve", "approval_approved"), ("reject", "approval_rejected"),
                                                    ("recall", "approval_recalled")])
def test_record_approval_fires_the_decision(decision, trigger):
    actor = Actor(id="system:approval")
    assert _fire("case.record_approval", actor=actor, decision=decision) == [TriggerGroup((trigger,), True), ALWAYS]


def test_customer_message_only_from_a_customer():
    assert _fire("case.add_customer_message", actor=CUSTOMER) == [TriggerGroup(("customer_message",)), ALWAYS]
    assert _fire("case.add_customer_message", actor=CS) == [ALWAYS]


def test_assign_is_assigned_with_an_assignee_after_the_command_else_queued():
    assert _fire("case.assign", case=_case(assignee="bob"), queue="q") == [TriggerGroup(("assigned",)), ALWAYS]
    assert _fire("case.assign", case=_case(assignee=""), queue="q") == [TriggerGroup(("queued",)), ALWAYS]


@pytest.mark.parametrize(("command_type", "group"), [
    ("case.request_quote", TriggerGroup(("quote_requested",))), ("case.send_quote", TriggerGroup(("quote_sent",))),
    ("case.place_order", TriggerGroup(("order_placed",), True)),
    ("case.confirm_order", TriggerGroup(("order_confirmed",), True)),
])
def test_plain_commands(command_type, group):
    assert _fire(command_type) == [group, ALWAYS]


def test_other_commands_fire_only_the_every_command_groups():
    assert _fire("case.update") == [ALWAYS] and _fire("case.resolve") == [ALWAYS]


TABLE = TriggerRules.model_validate({
    "commands": {"case.assign": [
        {"first_of": [{"trigger": "assigned", "actor_has_role": "admin", "creator_has_role": "sales_rep",
                       "data_equals": {"queue": "vip"}, "case_has": "assignee"}, "queued"]},
        {"first_of": [{"trigger": "opened", "case_lacks": "queue"}]},
    ]},
})


@pytest.mark.parametrize(("actor", "creator", "queue", "assignee", "first"), [
    (Actor(id="a", roles=["admin"]), REP, "vip", "bob", ("assigned", "queued")),  # every condition holds
    (CS, REP, "vip", "bob", ("queued",)),                      # actor_has_role fails
    (Actor(id="a", roles=["admin"]), CS, "vip", "bob", ("queued",)),   # creator_has_role fails
    (Actor(id="a", roles=["admin"]), REP, "std", "bob", ("queued",)),  # data_equals fails
    (Actor(id="a", roles=["admin"]), REP, "vip", None, ("queued",)),   # case_has fails
])
def test_conditions_all_must_hold_and_order_is_kept(actor, creator, queue, assignee, first):
    case = _case(creator=creator, assignee=assignee)
    assert _fire("case.assign", actor=actor, case=case, rules=TABLE, queue=queue) == [
        TriggerGroup(first), TriggerGroup(("opened",))]


def test_a_group_with_no_holding_alternative_is_left_out():
    case = _case().model_copy(update={"queue": "q"})
    assert _fire("case.assign", case=case, rules=TABLE) == [TriggerGroup(("queued",))]
    assert _fire("case.open", rules=TABLE) == []
