"""Rule resolution: which rule applies to a case at a trigger, and whom or which queue it names."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from routing.core.rule_models import Rule, RuleSet, Target
from routing.core.view import CaseView
from shared.directory import Directory

Load = Callable[[list[str]], dict[str, int]]
"""Open cases per person id (people with none may be missing)."""


class Decision(BaseModel):
    """The outcome of routing one case: who, which queue, by which rule, and why (in words)."""

    rule_id: str
    rules_version: int
    assignee: str | None = None
    queue: str | None = None
    team_role: str | None = None
    why: str

    @property
    def comment(self) -> str:
        """The sentence intake keeps with the assignment: rule set version, rule and reason."""
        return f"routing rules v{self.rules_version}, rule {self.rule_id}: {self.why}"


def matching(rules: RuleSet, case: CaseView, on: str) -> tuple[Rule | None, Rule | None]:
    """The most specific matching rule (ties: file order) and the fallback rule of (case type, trigger)."""
    candidates = rules.candidates(case.case_type, on)
    fallback = next((r for r in candidates if r.fallback), None)
    hits = [r for r in candidates if not r.fallback
            and all(getattr(case, k) == v for k, v in r.match.given().items())]
    best = max(hits, key=lambda r: r.specificity, default=None)  # max keeps the first of equals
    return best, fallback


def least_loaded(people: list[str], load: Load) -> tuple[str, str]:
    """The person with the fewest open cases (ties: smallest id), and the counts as words."""
    counts = load(people)
    ranked = sorted(people, key=lambda p: (counts.get(p, 0), p))
    return ranked[0], ", ".join(f"{p} {counts.get(p, 0)} open" for p in ranked)


def _assignee(target: Target, case: CaseView, directory: Directory, load: Load,
              owner: str | None) -> tuple[str | None, str]:
    """The person a target names, and how they were chosen; (None, why not) when nobody can be found."""
    if target.person:
        return target.person, f"person {target.person}"
    if target.account_owner:
        if owner is None:
            return None, f"account {case.account_id} has no owner in the account directory"
        return owner, f"the seller of account {case.account_id} (its owner {owner})"
    if target.role or target.group:
        kind, name = ("role", target.role) if target.role else ("group", target.group)
        people = sorted(p.id for p in (directory.with_role(name) if target.role else directory.in_group(name)))
        if not people:
            return None, f"{kind} {name} has nobody in the people directory"
        chosen, counts = least_loaded(people, load)
        return chosen, f"least loaded of {kind} {name} ({counts}; ties by id)"
    return None, ""


def _describe(rule: Rule, case: CaseView, on: str) -> str:
    conditions = ", ".join(f"{k} {v}" for k, v in rule.match.given().items())
    when = "at opening" if on == "opened" else f"entering {on}"
    return f"{case.case_type} {when}" + (f" with {conditions}" if conditions else "")


def _fallback_reason(rules: RuleSet, case: CaseView, on: str) -> str:
    causes = {r.match.cause for r in rules.candidates(case.case_type, on) if r.match.cause}
    if causes and case.cause is None:
        return "no cause given"
    if causes and case.cause not in causes:
        return f"unknown cause '{case.cause}' (routed causes: {', '.join(sorted(causes))})"
    return "no rule matches this case"


def _apply(rules: RuleSet, rule: Rule, assignee: str | None, why: str) -> Decision:
    if rule.to.queue:
        why = f"{why}, in queue {rule.to.queue}" if assignee else f"{why} → queue {rule.to.queue}"
    return Decision(rule_id=rule.id, rules_version=rules.version, assignee=assignee, queue=rule.to.queue,
                    team_role=rule.team_role if assignee else None, why=why)


def reroute_trigger(rules: RuleSet, case: CaseView) -> str | None:
    """`opened` when a case whose cause was just set still waits, unassigned, in its fallback queue."""
    fallback = next((r for r in rules.candidates(case.case_type, "opened") if r.fallback), None)
    waiting = case.assignee is None and fallback is not None and case.queue == fallback.to.queue
    return "opened" if waiting and case.is_open else None


def resolve(rules: RuleSet, case: CaseView, on: str, directory: Directory, load: Load,
            owner: str | None = None) -> Decision | None:
    """The decision for `case` at trigger `on` (None: no rule concerns it); `owner` = its account's owner."""
    best, fallback = matching(rules, case, on)
    if best is not None:
        assignee, how = _assignee(best.to, case, directory, load, owner)
        if assignee is not None or not best.to.who():
            described = _describe(best, case, on)
            return _apply(rules, best, assignee, f"{described} → {how}" if how else described)
        reason = f"rule {best.id} found nobody: {how}"
    elif fallback is not None:
        reason = _fallback_reason(rules, case, on)
    else:
        return None
    if fallback is None:
        return Decision(rule_id=best.id if best else "-", rules_version=rules.version, why=f"unroutable: {reason}")
    assignee, how = _assignee(fallback.to, case, directory, load, owner)
    return _apply(rules, fallback, assignee, f"{reason} → {how}" if how else reason)
