"""The checks a rule set must pass before it is put in force (each problem is one sentence)."""

from __future__ import annotations

from collections import Counter

from routing.core.rule_models import ROUTING_ACTOR_ID, Rule, RuleSet
from routing.core.view import OPENED
from shared.directory import Directory
from shared.lifecycles import Lifecycle


def problems_of(rules: RuleSet, directory: Directory, lifecycles: dict[str, Lifecycle]) -> list[str]:
    """Every problem of the rule set against the case types and the people directory."""
    problems: list[str] = []
    known = ", ".join(sorted(lifecycles))
    for name, queue in rules.queues.items():
        problems += [f"queue {name}: unknown case type '{t}' (known: {known})" for t in queue.case_types if t not in lifecycles]
        problems += [f"queue {name}: group '{g}' has nobody in the people directory" for g in queue.groups
                     if not directory.in_group(g)]
    for rule_id, n in Counter(r.id for r in rules.rules).items():
        if n > 1:
            problems.append(f"rule id '{rule_id}' is used {n} times")
    seen: dict[tuple, str] = {}
    for rule in rules.rules:
        lc = lifecycles.get(rule.case_type)
        if lc is None:
            problems.append(f"rule {rule.id}: unknown case type '{rule.case_type}' (known: {known})")
            continue
        problems += _rule_problems(rule, lc, rules, directory)
        key = (rule.case_type, rule.at, rule.fallback, tuple(sorted(rule.match.given().items())))
        if key in seen:
            problems.append(f"rule {rule.id}: same case type, trigger and conditions as rule {seen[key]}")
        seen.setdefault(key, rule.id)
    return problems


def _rule_problems(rule: Rule, lc: Lifecycle, rules: RuleSet, directory: Directory) -> list[str]:
    out: list[str] = []
    where = f"rule {rule.id}"
    if rule.at != OPENED and lc.status(rule.at) is None:
        out.append(f"{where}: '{rule.at}' is not 'opened' nor a status of {lc.case_type}")
    who = rule.to.who()
    if not who and not rule.to.queue:
        out.append(f"{where}: routes to nobody (give person, role, group, account_owner or queue)")
    if len(who) > 1:
        out.append(f"{where}: give only one of person, role, group, account_owner (got {', '.join(who)})")
    if rule.to.person and directory.get(rule.to.person) is None:
        out.append(f"{where}: person '{rule.to.person}' is not in the people directory")
    if rule.to.role and not directory.with_role(rule.to.role):
        out.append(f"{where}: nobody holds role '{rule.to.role}'")
    if rule.to.group and not directory.in_group(rule.to.group):
        out.append(f"{where}: group '{rule.to.group}' has nobody in the people directory")
    if rule.to.queue and rule.to.queue not in rules.queues:
        out.append(f"{where}: queue '{rule.to.queue}' does not exist (queues: {', '.join(sorted(rules.queues)) or '-'})")
    cause = rule.match.cause
    if cause is not None and cause not in lc.causes:
        out.append(f"{where}: '{cause}' is not a cause of {lc.case_type} (causes: {', '.join(lc.causes) or '-'})")
    if rule.fallback and rule.match.given():
        out.append(f"{where}: a fallback rule cannot have conditions")
    if rule.fallback and rule.to.account_owner:
        out.append(f"{where}: a fallback rule must not depend on the account owner (it could fail too)")
    if rule.team_role and not who:
        out.append(f"{where}: team_role needs a person to add to the case team")
    add_member = lc.commands.get("case.add_team_member")
    if rule.team_role and (add_member is None or ROUTING_ACTOR_ID not in add_member.roles):
        out.append(f"{where}: {lc.case_type} does not let {ROUTING_ACTOR_ID} add team members")
    assign = lc.commands.get("case.assign")
    if assign is None or ROUTING_ACTOR_ID not in assign.roles:
        out.append(f"{where}: {lc.case_type} does not let {ROUTING_ACTOR_ID} assign cases")
    return out
