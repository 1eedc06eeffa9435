"""The record written to `case.rejections` for every refused command."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

REJECTION_TYPE = "case.command_rejected"


class CommandRejected(BaseModel):
    """A command that was refused, and why; exactly one per refused command."""

    command_id: str = Field(description="`id` of the refused command (its idempotency key).")
    command_type: str | None = Field(None, description="`type` of the refused command, when it could be read.")
    case_id: str | None = Field(None, description="Case the command was for (`subject`), when it could be read.")
    code: str = Field(
        description="Stable machine code: transition_not_allowed, guard_failed, case_locked, closed, forbidden, "
        "not_found, invalid, too_large, already_exists, already_decided (approval)."
    )
    reason: str = Field(description="What was wrong, in a sentence a person understands.")
    actor_id: str | None = Field(None, description="Who sent the command, when it could be read.")
    rejected_at: datetime = Field(description="When the service refused it.")
