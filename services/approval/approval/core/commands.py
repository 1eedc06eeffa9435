"""Approval commands on a case's approvals, and the checks of the other commands (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from approval.core.decisions import decide, delegate, reassign, recall
from approval.core.rules import RuleSet, RuleSetError
from approval.core.state import Absence, CaseApprovals, Outcome, Refused
from approval.core.tokens import LinkClaim, Linker, LinkRefused
from shared.contract.approval import APPROVAL_COMMAND_TYPES, ApprovalSetOutOfOffice
from shared.contract.envelope import CloudEvent
from shared.directory import Directory
from shared.identity import Forbidden, require_roles, verified_actor, with_actor
from shared.principals import Principals
from shared.runtime.inbound import describe_validation_error



def on_case(state: CaseApprovals | None, command_type: str, subject: str, data: Any, now: datetime, rules: RuleSet,
            directory: Directory, linker: Linker) -> Outcome | Refused:
    """Decide, delegate, reassign or recall on the case's open step (a link's token checked before, see `link_claim`)."""
    actor = data.actor
    if command_type == "approval.decide":
        if data.case_id != subject:
            return Refused("invalid", "data.case_id must equal the subject (the case id).")
        return decide(state, data.step, actor.id, data.decision, data.comment, now)
    if command_type == "approval.delegate":
        return delegate(state, data.step, actor.id, data.to, data.comment, directory, linker)
    if command_type == "approval.reassign":
        return reassign(state, data.step, actor.id, actor.roles, data.from_person, data.to, data.comment,
                        directory, rules.reassigners, linker)
    return recall(state, data.step, actor.id, actor.roles, data.comment, now)


def link_claim(state: CaseApprovals | None, subject: str, data: Any, linker: Linker) -> LinkClaim | Refused:
    """The claim of a decision's link token, if it is valid for this person, case and open step."""
    checked = linker.check(data.token)
    if isinstance(checked, LinkRefused):
        return Refused("forbidden", f"The approval link is refused: {checked.reason}")
    if checked.case_id != subject or checked.person != data.actor.id:
        return Refused("forbidden", "The approval link is not valid for this person and case.")
    step = state.step_of(checked.approval_id) if state else None
    if step is not None and step.status in ("approved", "rejected"):
        return Refused("already_decided", f"This approval request was already decided ({step.status}).")
    if step is None or not step.is_open or step.step != data.step:
        return Refused("not_found", "This approval link is for a request that is no longer open.")
    return checked


def absence_of(subject: str, data: ApprovalSetOutOfOffice, directory: Directory) -> Absence | Refused:
    """The absence a `approval.set_out_of_office` records, or why it is refused."""
    problem = None
    if data.person != subject:
        problem = "data.person must equal the subject (the person id)."
    elif directory.get(data.person) is None or (data.delegate and directory.get(data.delegate) is None):
        problem = "The person and the delegate must be in the people directory."
    elif data.delegate == data.person:
        problem = "A person cannot stand in for themselves."
    elif data.start.tzinfo is None or data.end.tzinfo is None or data.end <= data.start:
        problem = "start and end must be timezone-aware and end after start."
    elif data.actor.id != data.person and "admin" not in data.actor.roles:
        return Refused("forbidden", "Only the person or an admin may set their absence.")
    return Refused("invalid", problem) if problem else Absence(data.person, data.delegate, data.start, data.end)


def rule_set_of(raw: Any, actor: Any, in_force: RuleSet, validate: Any) -> RuleSet | tuple[Refused, dict[str, Any] | None]:
    """The rule set a `rules.upsert` puts in force, or its refusal (with the `approval.rules_refused` data, if any)."""
    if not set(actor.roles) & set(in_force.rule_editors):
        return Refused("forbidden", f"Only holders of {', '.join(in_force.rule_editors)} may change the approval rules."), None
    try:
        rule_set = validate(raw)
        if rule_set.version <= in_force.version:
            raise RuleSetError([f"version {rule_set.version} must be greater than {in_force.version}, the version in force"])
    except RuleSetError as exc:
        version = raw.get("version") if isinstance(raw, dict) and isinstance(raw.get("version"), int) else None
        refused = {"version": version, "version_in_force": in_force.version, "reasons": exc.reasons, "by": actor.id}
        return Refused("invalid", "Rule set refused: " + "; ".join(exc.reasons) + "."), refused
    return rule_set


@dataclass(frozen=True)
class Parsed:
    """A readable approval command: the envelope with its verified actor, and its data as the contract model."""

    command: CloudEvent
    data: Any


def read_command(event: CloudEvent, principal: str, directory: Directory, principals: Principals) -> Parsed | Refused:
    """The command with the actor its principal may speak for (roles from the directory), its data parsed; or why not."""
    raw = event.data if isinstance(event.data, dict) else {}
    try:
        actor = verified_actor(principal, raw.get("actor"), directory, principals, kind="approval_commands")
        require_roles(event.type, actor, principals)
    except Forbidden as no:  # roles a message claims are never read
        return Refused("forbidden", str(no))
    command = event.model_copy(update={"data": with_actor(raw, actor)})
    model = APPROVAL_COMMAND_TYPES.get(command.type)
    if not command.subject:
        return Refused("invalid", "An approval command needs a subject (the case id).")
    if model is None:
        return Refused("invalid", f"Unknown approval command type {command.type!r}; known: {', '.join(APPROVAL_COMMAND_TYPES)}.")
    try:
        return Parsed(command, model.model_validate(command.data))
    except ValidationError as exc:
        return Refused("invalid", describe_validation_error(exc, command.type))
