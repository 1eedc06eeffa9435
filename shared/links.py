"""Approval link tokens as text: their shape, what they claim (unverified) and the link built from one.

Approval signs and verifies tokens (`approval.core.tokens.Linker`, which alone holds the secret); the
notifier only needs to know that a token is well formed and whom it names, so it can build the link
itself and mail it to that person only. Nothing here trusts a token: `claims_of` reads, never verifies.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

SIGNATURE_BYTES = 18  # 144 bits of HMAC-SHA256: unguessable, and 24 characters in base64url
_SIGNATURE_CHARS = 24
BODY_MAX_CHARS = 480  # case id and person are ≤ 64 characters, the approval id a uuid: far under this
_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,%d}\.[A-Za-z0-9_-]{%d}" % (BODY_MAX_CHARS, _SIGNATURE_CHARS))
_ID_CHARS = 128


@dataclass(frozen=True)
class LinkClaim:
    """What a token says: this person may act once on this approval of this case until `expires` (epoch s)."""

    case_id: str
    approval_id: str
    person: str
    expires: int


def b64(raw: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def well_formed(token: object) -> bool:
    """`<base64url body>.<24-character signature>`, ASCII only; anything else is refused before any decoding."""
    return isinstance(token, str) and _SHAPE.fullmatch(token) is not None


def signature_of(token: str) -> str:
    """The signature part: also the token's id, under which its single use is recorded."""
    return token.rpartition(".")[2]


def encode_body(claim: LinkClaim) -> str:
    """The token's body for a claim: compact JSON, base64url."""
    raw = json.dumps([claim.case_id, claim.approval_id, claim.person, claim.expires], separators=(",", ":"))
    return b64(raw.encode())


def claims_of(token: object) -> LinkClaim | None:
    """The claims of a well-formed token, or None for any malformed one; never raises, never verifies."""
    if not well_formed(token):
        return None
    body = str(token).partition(".")[0]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):  # wrong padding/length, not UTF-8, not JSON
        return None
    if not isinstance(value, list) or len(value) != 4:
        return None
    *ids, expires = value
    if not all(isinstance(i, str) and 0 < len(i) <= _ID_CHARS and i.isprintable() for i in ids):
        return None
    if type(expires) is not int or not 0 < expires < 2**40:  # bool is an int: refused by the exact type check
        return None
    return LinkClaim(ids[0], ids[1], ids[2], expires)


def approval_link(base: str, token: str) -> str:
    """`<base>/approvals/<token>` for a well-formed token (URL-safe by its shape, so nothing can be injected)."""
    if not well_formed(token):
        raise ValueError("not an approval link token")
    return f"{base.rstrip('/')}/approvals/{token}"
