"""What `decide` returns: Accepted (new case + events) or Refused (code + readable reason)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from intake.core.case import Case

RefusalCode = Literal[
    "invalid",
    "not_found",
    "already_exists",
    "transition_not_allowed",
    "guard_failed",
    "case_locked",
    "closed",
    "forbidden",
    "too_large",
]


class Refused(BaseModel):
    """The command is refused; nothing changes. `reason` is a sentence for a person."""

    model_config = ConfigDict(frozen=True)

    code: RefusalCode
    reason: str


class Accepted(BaseModel):
    """The command is accepted: the new case and the events to publish, in order."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    case: Case
    events: list[tuple[str, BaseModel]]


def refuse(code: RefusalCode, reason: str) -> Refused:
    """Shorthand for building a Refused."""
    return Refused(code=code, reason=reason)
