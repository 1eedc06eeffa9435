"""Applies lifecycle transitions to a case: automatic (by trigger) and manual (by role)."""

from __future__ import annotations

from dataclasses import dataclass

from intake.core.case import Case
from intake.core.guards import EFFECTS, GUARDS
from intake.core.results import Refused, refuse
from intake.core.triggers import TRIGGER_PHRASES, TriggerGroup
from shared.contract.envelope import Actor
from shared.identity import has_role
from shared.lifecycles import Lifecycle, Transition


@dataclass(frozen=True)
class Step:
    """One status change that happened while deciding a command."""

    from_status: str
    to_status: str
    trigger_name: str | None  # None = manual


def allowed(actor: Actor, roles: list[str]) -> bool:
    """True if the (verified) actor holds one of the roles, or roles has `*`.

    A system actor holds its own id as its one role (shared/identity.py); an actor *id* equal to a role
    name is not a role, so `{"id": "system:approval"}` from anyone else passes nothing.
    """
    return has_role(actor, roles)


def failed_guard(lc: Lifecycle, t: Transition, case: Case) -> str | None:
    """The failure sentence of the first guard of `t` that does not hold, or None."""
    for name in t.guards:
        if not GUARDS[name].check(case):
            return GUARDS[name].message.format(label=lc.label)
    return None


def _apply(t: Transition, case: Case, actor: Actor, trigger: str | None) -> Step:
    step = Step(case.status, t.to, trigger)
    case.status = t.to
    for effect in t.effects:
        EFFECTS[effect](case, actor)
    return step


def fire(lc: Lifecycle, case: Case, groups: list[TriggerGroup], actor: Actor) -> list[Step] | Refused:
    """Fire trigger groups in order on the (new, mutable) case; refuse if a required group cannot move."""
    steps: list[Step] = []
    for group in groups:
        guard_problem: str | None = None
        moved = False
        for name in group.names:
            for t in lc.automatic(case.status, name):
                problem = failed_guard(lc, t, case)
                if problem is None:
                    steps.append(_apply(t, case, actor, name))
                    moved = True
                    break
                guard_problem = guard_problem or problem
            if moved:
                break
        if not moved and group.required:
            if guard_problem:
                return refuse("guard_failed", guard_problem)
            label = lc.status(case.status).label  # type: ignore[union-attr]
            phrase = TRIGGER_PHRASES[group.names[-1]]
            return refuse("transition_not_allowed", f"{lc.a_label_cap} cannot {phrase} while it is '{label}'.")
    return steps


def move_manually(lc: Lifecycle, case: Case, target: str, actor: Actor) -> Step | Refused:
    """Manual move of the (new, mutable) case to `target`, checking transition, roles and guards."""
    here, there = lc.status(case.status), lc.status(target)
    if there is None:
        codes = ", ".join(s.code for s in lc.statuses)
        return refuse("invalid", f"'{target}' is not a status of {lc.a_label} (statuses: {codes}).")
    if here is None:
        return refuse("invalid", f"The case is in status '{case.status}', unknown to the {lc.label} lifecycle.")
    t = lc.manual(case.status, target)
    if t is None:
        auto = [a.trigger for a in lc.transitions if a.mode == "automatic" and a.to == target]
        how = f" It is set automatically ({', '.join(dict.fromkeys(auto))})." if auto else ""
        return refuse("transition_not_allowed", f"{lc.a_label_cap} cannot be moved by hand from '{here.label}' to '{there.label}'.{how}")
    if not allowed(actor, t.roles):
        return refuse("forbidden", f"Only {', '.join(t.roles)} may move {lc.a_label} from '{here.label}' to '{there.label}'.")
    problem = failed_guard(lc, t, case)
    if problem:
        return refuse("guard_failed", problem)
    return _apply(t, case, actor, None)
