"""Link tokens: a signed (case, approval, person) triple, so the e-mail link needs no lookup table."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token says: this person may act on this approval of this case."""

    case_id: str
    approval_id: str
    person: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Linker:
    """Signs and verifies tokens with the deployment's secret and builds the approver's link."""

    def __init__(self, secret: str, public_base_url: str) -> None:
        self._key, self._base = secret.encode(), public_base_url.rstrip("/")

    def token(self, case_id: str, approval_id: str, person: str) -> str:
        """A URL-safe token for the person's part of the approval."""
        body = _b64(json.dumps([case_id, approval_id, person], separators=(",", ":")).encode())
        return f"{body}.{self._sign(body)}"

    def link(self, token: str) -> str:
        """Absolute URL where the approver decides."""
        return f"{self._base}/approvals/{token}"

    def verify(self, token: str) -> LinkClaim | None:
        """The claim of a genuine token, None for a forged or garbled one."""
        body, _, signature = token.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            case_id, approval_id, person = json.loads(_unb64(body))
        except (ValueError, TypeError):
            return None
        return LinkClaim(str(case_id), str(approval_id), str(person))

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:18])
