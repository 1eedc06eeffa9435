"""The approval link in a mail is built here, from the event's token and our own setting, never taken as sent.

A forged `approval.requested` could otherwise make us mail any URL from the company sender. We do not hold
the link secret (only approval can mint tokens), so we cannot verify a token; we make sure it is a token
(its strict URL-safe shape), that it names the recipient and the case, and put it under *our* configured
approval address. At worst a forged event mails the real approval page a token it will refuse.
"""

from __future__ import annotations

from typing import Any

from shared.links import approval_link, claims_of

LINKED_TYPES = frozenset({"approval.requested", "approval.reminder", "approval.escalated"})


def token_in(data: dict[str, Any]) -> object:
    """The event's token; older events carry only the link, so then its last path segment (never its host)."""
    token = data.get("token")
    if token is None and isinstance(data.get("link"), str):
        token = data["link"].rstrip("/").rpartition("/")[2]
    return token


def approval_link_for(data: dict[str, Any], case_id: str, recipient: str, base: str) -> str | None:
    """`<base>/approvals/<token>` when the event's token is well formed and names this case and recipient."""
    token = token_in(data)
    claim = claims_of(token)
    if claim is None or claim.case_id != case_id or claim.person != recipient:
        return None
    return approval_link(base, str(token))
