"""Approval core: rules as data, business calendars and the approval state machine (no I/O)."""

from shared.calendars import Calendar
from approval.core.decisions import absence_started, decide, delegate, reassign, recall
from approval.core.rulebook import RuleBook
from approval.core.rules import DEFAULT_FILE, PartyRef, Rule, RuleSet, RuleSetError, load_rule_file, parse_rule_set
from approval.core.state import Absence, CaseApprovals, Outcome, Refused, Slot, Step
from approval.core.steps import cancel, escalation_target, fire_timers, open_step, stand_in
from approval.core.csrf import Csrf
from approval.core.tokens import LinkClaim, Linker, LinkRefused
from approval.core.validate import approval_steps, find_cycle, resolve_party, validate_rule_set

__all__ = [
    "DEFAULT_FILE", "Absence", "Calendar", "CaseApprovals", "Csrf", "LinkClaim", "LinkRefused", "Linker", "Outcome", "PartyRef", "Refused",
    "Rule", "RuleBook", "RuleSet", "RuleSetError", "Slot", "Step", "absence_started", "approval_steps", "cancel", "decide",
    "delegate", "escalation_target", "find_cycle", "fire_timers", "load_rule_file", "open_step", "parse_rule_set",
    "reassign", "recall", "resolve_party", "stand_in", "validate_rule_set",
]
