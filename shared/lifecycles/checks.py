"""Consistency checks of a lifecycle file beyond its schema (each returns readable problems).

Only what the file itself can show: the names of guards, effects and triggers, and the case attributes
a section shows, are intake's vocabulary, checked by intake when it loads the files.
"""

from __future__ import annotations

from shared.contract.commands import COMMAND_TYPES
from shared.lifecycles.model import Lifecycle

CASE_COMMANDS = frozenset(t for t in COMMAND_TYPES if t.startswith("case."))


def check_lifecycle(lc: Lifecycle) -> list[str]:
    """All problems found in a lifecycle; empty when it is consistent."""
    p: list[str] = []
    codes = [s.code for s in lc.statuses]
    known = set(codes)
    if len(known) != len(codes):
        p.append("duplicate status codes")
    init = lc.status(lc.initial_status)
    if init is None:
        p.append(f"initial_status {lc.initial_status!r} is not a defined status")
    elif init.is_closed:
        p.append("initial_status must not be a closed status")
    for s in lc.statuses:
        p += [f"status {s.code}: accepts unknown command {c}" for c in s.accepts if c not in CASE_COMMANDS]
        if s.locked and s.is_closed:
            p.append(f"status {s.code}: closed statuses are always locked, drop `locked`")
    for i, t in enumerate(lc.transitions):
        where = f"transition #{i + 1} ({','.join(t.from_)} -> {t.to})"
        p += [f"{where}: unknown status {c!r}" for c in [*t.from_, t.to] if c not in known]
        if t.mode == "manual" and (not t.roles or t.trigger):
            p.append(f"{where}: a manual transition lists roles and no trigger")
        if t.mode == "automatic" and (t.roles or not t.trigger):
            p.append(f"{where}: an automatic transition names its trigger and no roles")
        leaving_closed = [c for c in t.from_ if lc.status(c) and lc.status(c).is_closed]
        if leaving_closed and not t.reopen:
            p.append(f"{where}: leaves closed status {leaving_closed}; mark it `reopen: true` if intended")
        if t.to in t.from_:
            p.append(f"{where}: a transition cannot stay on the same status")
    for reason, target in lc.closing.reasons.items():
        st = lc.status(target)
        if st is None or not st.is_closed:
            p.append(f"closing reason {reason!r} must map to a closed status, not {target!r}")
        elif not any(t.mode == "manual" and t.to == target for t in lc.transitions):
            p.append(f"closing reason {reason!r}: no manual transition reaches {target!r}")
    if lc.closing.default_reason and lc.closing.default_reason not in lc.closing.reasons:
        p.append("closing.default_reason is not one of closing.reasons")
    if not lc.closing.reason_required and not lc.closing.default_reason:
        p.append("closing.default_reason is needed when reason_required is false")
    p += [f"closing.duplicate_reasons: {r!r} is not a reason" for r in lc.closing.duplicate_reasons if r not in lc.closing.reasons]
    for t in lc.transitions:
        st = lc.status(t.to)
        if t.mode == "manual" and st and st.is_closed and t.to not in lc.closing.reasons.values():
            p.append(f"closed status {t.to!r} is reachable manually but no closing reason leads to it")
    if "case.open" not in lc.commands:
        p.append("commands must list case.open")
    for cmd, rule in lc.commands.items():
        if cmd not in CASE_COMMANDS:
            p.append(f"commands: unknown command type {cmd!r}")
        p += [f"commands.{cmd}: unknown status {s!r}" for s in rule.statuses or [] if s not in known]
    names = [f.name for f in lc.fields]
    if len(set(names)) != len(names):
        p.append("duplicate field names")
    p += [f"field {f.name}: enum needs values" for f in lc.fields if f.type == "enum" and not f.values]
    for sec in lc.sections:
        p += [f"section {sec.code}: unknown field {r!r}" for r in sec.fields
              if r.startswith("fields.") and r[7:] not in names]
    for f in lc.fields:
        given = [v for v in [f.default, *f.default_by_gbu.values()] if v is not None]
        if f.type == "enum":
            p += [f"field {f.name}: default {v!r} is not one of its values" for v in given if v not in f.values]
    return p + _extras_problems(lc, known)


def _extras_problems(lc: Lifecycle, known: set[str]) -> list[str]:
    # Queues, advice and refused commands: the parts read by one command each.
    p: list[str] = []
    codes = [q.code for q in lc.queues]
    if len(set(codes)) != len(codes):
        p.append("duplicate queue codes")
    for a in lc.advice:
        p += [f"advice {a.code}: unknown status {s!r}" for s in a.statuses if s not in known]
    if len({a.code for a in lc.advice}) != len(lc.advice):
        p.append("duplicate advice codes")
    for cmd in lc.refused_commands:
        if cmd not in CASE_COMMANDS:
            p.append(f"refused_commands: unknown command type {cmd!r}")
        elif cmd in lc.commands:
            p.append(f"refused_commands: {cmd} is also listed in commands")
    return p
