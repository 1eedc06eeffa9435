"""Which named automatic triggers a command fires (the lifecycle decides what they do)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from intake.core.case import Case
from shared.contract.envelope import Actor


@dataclass(frozen=True)
class TriggerGroup:
    """Alternative triggers: the first with an applicable transition wins; `required` refuses if none."""

    names: tuple[str, ...]
    required: bool = False


# What a refusal says when a required trigger has no transition from the current status.
TRIGGER_PHRASES: dict[str, str] = {
    "opened": "be opened",
    "submitted": "be submitted",
    "submitted_by_sales_rep": "be submitted",
    "approval_approved": "be approved",
    "approval_rejected": "be rejected by an approver",
    "approval_recalled": "have its approval request recalled",
    "resolution_filled": "be resolved",
    "customer_message": "receive a customer message",
    "quote_requested": "get a quote request",
    "quote_sent": "have its quote sent",
    "order_placed": "have an order placed",
    "order_confirmed": "have its order confirmed",
    "assigned": "be assigned",
    "queued": "be sent to a queue",
}
KNOWN_TRIGGERS = frozenset(TRIGGER_PHRASES)

# Evaluated after every command: states that follow from data, whatever command filled it.
ALWAYS = TriggerGroup(("resolution_filled",))


def triggers_for(command_type: str, data: BaseModel, actor: Actor, case: Case) -> list[TriggerGroup]:
    """Trigger groups fired by an accepted command, in order, given the case after the command."""
    groups: list[TriggerGroup] = []
    if command_type == "case.open":
        groups.append(TriggerGroup(("opened",)))
        if case.assignee:
            groups.append(TriggerGroup(("assigned",)))
    elif command_type == "case.submit":
        # A sales rep's own request needs no approval: the lifecycle maps this trigger to `approved`.
        by_rep = "sales_rep" in case.created_by.roles
        names = ("submitted_by_sales_rep", "submitted") if by_rep else ("submitted",)
        groups.append(TriggerGroup(names, required=True))
    elif command_type == "case.record_approval":
        name = {"approve": "approval_approved", "reject": "approval_rejected", "recall": "approval_recalled"}[
            getattr(data, "decision")]
        groups.append(TriggerGroup((name,), required=True))
    elif command_type == "case.add_customer_message" and "customer" in actor.roles:
        groups.append(TriggerGroup(("customer_message",)))
    elif command_type == "case.request_quote":
        groups.append(TriggerGroup(("quote_requested",)))
    elif command_type == "case.send_quote":
        groups.append(TriggerGroup(("quote_sent",)))
    elif command_type == "case.place_order":
        groups.append(TriggerGroup(("order_placed",), required=True))
    elif command_type == "case.confirm_order":
        groups.append(TriggerGroup(("order_confirmed",), required=True))
    elif command_type == "case.assign":
        groups.append(TriggerGroup(("assigned",) if case.assignee else ("queued",)))
    groups.append(ALWAYS)
    return groups
