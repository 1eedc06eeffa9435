"""Advisory notes (not refusals): the lifecycle's `advice` that applies to a case after each command."""

from __future__ import annotations

from intake.core.case_parts import AdviceNote
from intake.core.context import Ctx
from intake.core.guards import GUARDS


def refresh_advice(ctx: Ctx) -> None:
    """Keep on the case the advice that applies now; raise each again (`case.advice`), clear the rest."""
    case = ctx.case
    held = {note.code: note for note in case.advice}
    kept: list[AdviceNote] = []
    for rule in ctx.lc.advice:
        applies = case.status in rule.statuses and not GUARDS[rule.unless].check(case)
        if applies:
            # The note keeps the time it was first raised; every change while it applies says it again.
            since = held[rule.code].at if rule.code in held else ctx.now
            kept.append(AdviceNote(code=rule.code, message=rule.message, at=since))
            ctx.emit("case.advice", code=rule.code, message=rule.message)
        elif rule.code in held:
            ctx.emit("case.advice", code=rule.code, message=rule.message, cleared=True)
    case.advice = kept
