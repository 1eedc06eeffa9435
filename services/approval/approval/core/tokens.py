"""Link tokens: a signed, expiring (case, approval, person) claim, so the e-mail link needs no lookup table.

A token is `base64url(json [case_id, approval_id, person, expires]) . base64url(HMAC-SHA256)[:18 bytes]`.
It is bound to the approver and the step by what it signs, expires after the TTL and, once used, is
recorded as spent by its signature (the HTTP route and the command handler do that in the store).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contract.envelope import now_utc
from shared.links import SIGNATURE_BYTES, LinkClaim, approval_link, b64, claims_of, encode_body, signature_of


@dataclass(frozen=True)
class LinkRefused:
    """Why a token is refused, with the HTTP status a link route answers."""

    code: str  # malformed | forged | expired
    reason: str
    status: int


MALFORMED = LinkRefused("malformed", "This is not an approval link: the address is incomplete or garbled.", 400)
FORGED = LinkRefused("forged", "Unknown or invalid approval link.", 404)
EXPIRED = LinkRefused("expired", "This approval link has expired; ask for a new one.", 410)


def derive_key(secret: str, purpose: str) -> bytes:
    """A key per purpose from the deployment's secret, so a link signature never serves as a CSRF token."""
    return hmac.new(secret.encode(), f"case-backbone/{purpose}".encode(), hashlib.sha256).digest()


class Linker:
    """Signs and verifies tokens with the deployment's secret and builds the approver's link."""

    def __init__(self, secret: str, public_base_url: str, ttl: timedelta = timedelta(days=14),
                 clock: Callable[[], datetime] = now_utc) -> None:
        self._key, self._base = derive_key(secret, "approval-link"), public_base_url.rstrip("/")
        self._ttl, self._clock = ttl, clock

    def token(self, case_id: str, approval_id: str, person: str) -> str:
        """A URL-safe token for the person's part of the approval, valid for the TTL from now."""
        expires = int((self._clock() + self._ttl).timestamp())
        body = encode_body(LinkClaim(case_id, approval_id, person, expires))
        return f"{body}.{self._sign(body)}"

    def link(self, token: str) -> str:
        """Absolute URL where the approver decides."""
        return approval_link(self._base, token)

    def check(self, token: object) -> LinkClaim | LinkRefused:
        """The claim of a genuine, unexpired token, else why not; never raises, whatever `token` is."""
        claim = claims_of(token)
        if claim is None:
            return MALFORMED
        body = str(token).partition(".")[0]
        # Both sides are ASCII by the token's shape, so compare_digest cannot raise TypeError.
        if not hmac.compare_digest(signature_of(str(token)), self._sign(body)):
            return FORGED
        if claim.expires <= self._clock().timestamp():
            return EXPIRED
        return claim

    def verify(self, token: object) -> LinkClaim | None:
        """The claim of a genuine, unexpired token; None for a forged, expired or garbled one."""
        result = self.check(token)
        return result if isinstance(result, LinkClaim) else None

    def _sign(self, body: str) -> str:
        return b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES])


__all__ = ["EXPIRED", "FORGED", "MALFORMED", "LinkClaim", "LinkRefused", "Linker", "derive_key", "signature_of"]
