"""Semantic checks of a rule set against the lifecycles and the people directory."""

from __future__ import annotations

from typing import Any

from approval.core.rules import PartyRef, RuleSet, RuleSetError, parse_rule_set
from shared.directory import Directory


def approval_steps(lifecycles: dict[str, Any]) -> dict[str, set[str]]:
    """Case type -> its approval steps, from the intake lifecycle files."""
    return {name: {s.approval_step for s in lc.statuses if s.approval_step} for name, lc in lifecycles.items()}


def validate_rule_set(raw: Any, steps_by_type: dict[str, set[str]], directory: Directory) -> RuleSet:
    """The rule set, or RuleSetError listing every reason it must not be put in force."""
    rule_set = parse_rule_set(raw)
    reasons: list[str] = []
    reasons += _calendar_refs(rule_set)
    reasons += _rules(rule_set, steps_by_type, directory)
    reasons += _fallbacks(rule_set, steps_by_type)
    for name, chain in (("deputies", rule_set.deputies), ("escalation_chain", rule_set.escalation_chain)):
        reasons += _people(name, chain, directory)
        cycle = find_cycle(chain)
        if cycle:
            reasons.append(f"{name} has a cycle: {' → '.join(cycle)}")
    if reasons:
        raise RuleSetError(reasons)
    return rule_set


def find_cycle(chain: dict[str, str]) -> list[str] | None:
    """The first cycle of a person → person map, as a closed path, or None."""
    for start in chain:
        path, current = [start], chain.get(start)
        while current is not None:
            if current in path:
                return path[path.index(current):] + [current]
            path.append(current)
            current = chain.get(current)
    return None


def _calendar_refs(rule_set: RuleSet) -> list[str]:
    return [f"GBU {gbu} uses unknown calendar {g.calendar!r}"
            for gbu, g in rule_set.gbus.items() if g.calendar not in rule_set.calendars]


def _rules(rule_set: RuleSet, steps_by_type: dict[str, set[str]], directory: Directory) -> list[str]:
    reasons, seen = [], set()
    for rule in rule_set.rules:
        where = f"rule {rule.id}"
        if rule.id in seen:
            reasons.append(f"{where}: the id is used twice")
        seen.add(rule.id)
        if rule.case_type not in steps_by_type:
            reasons.append(f"{where}: unknown case type {rule.case_type!r} (known: {', '.join(sorted(steps_by_type))})")
            continue
        known = steps_by_type[rule.case_type]
        for step, step_rule in rule.steps.items():
            if step not in known:
                reasons.append(f"{where}: case type {rule.case_type} has no approval step {step!r}"
                               f" (its steps: {', '.join(sorted(known)) or 'none'})")
            if not step_rule.approvers:
                reasons.append(f"{where}: step {step} has no approver")
            for ref in step_rule.approvers:
                if ref.manager:
                    reasons.append(f"{where}: step {step}: an approver cannot be 'the manager'")
                elif not resolve_party(ref, directory, None):
                    reasons.append(f"{where}: step {step}: approver {ref.describe()} resolves to no one")
            target = step_rule.escalate_to
            if target is not None and not target.manager and not resolve_party(target, directory, None):
                reasons.append(f"{where}: step {step}: escalation target {target.describe()} resolves to no one")
    return reasons


def _fallbacks(rule_set: RuleSet, steps_by_type: dict[str, set[str]]) -> list[str]:
    reasons = []
    for case_type, steps in sorted(steps_by_type.items()):
        for step in sorted(steps):
            if not any(r.case_type == case_type and step in r.steps and r.specificity == 0 for r in rule_set.rules):
                reasons.append(f"no fallback rule (without conditions) for step {step} of case type {case_type}")
    return reasons


def _people(name: str, chain: dict[str, str], directory: Directory) -> list[str]:
    return [f"{name}: unknown person {p!r}" for pair in chain.items() for p in pair if directory.get(p) is None]


def resolve_party(ref: PartyRef, directory: Directory, subject: str | None) -> list[str]:
    """Person ids a reference names, in directory order; `manager` needs the subject person."""
    if ref.person:
        return [ref.person] if directory.get(ref.person) else []
    if ref.role:
        return [p.id for p in directory.with_role(ref.role)]
    if ref.group:
        return [p.id for p in directory.in_group(ref.group)]
    person = directory.get(subject) if subject else None
    return [person.manager] if person and person.manager else []


__all__ = ["RuleSetError", "approval_steps", "find_cycle", "resolve_party", "validate_rule_set"]
