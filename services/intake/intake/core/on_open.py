"""Named effects a lifecycle applies to every new case of its type (`on_open` in the lifecycle file)."""

from __future__ import annotations

from collections.abc import Callable

from intake.core.case_parts import Quote
from intake.core.context import Ctx


def new_draft_quote(ctx: Ctx, revision: int, note: str | None) -> Quote:
    """Put a draft quote on the case and queue its `case.quote_requested` event."""
    ctx.case.quote = Quote(status="draft", revision=revision, requested_at=ctx.now, requested_by=ctx.actor.id, note=note)
    ctx.emit("case.quote_requested", quote_status="draft", revision=revision)
    return ctx.case.quote


def _draft_quote(ctx: Ctx) -> None:
    # Seed 003: the quote is Draft "automatically ... when a customer requests a quote", and a quotation case
    # is that request.
    new_draft_quote(ctx, 1, None)


OPEN_EFFECTS: dict[str, Callable[[Ctx], None]] = {
    "draft_quote": _draft_quote,
}
"""Effect name -> what it does to the new case (lifecycle files name them in `on_open`)."""
