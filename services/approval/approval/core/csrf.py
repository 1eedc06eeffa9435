"""CSRF tokens for the approval page's form: signed, bound to the link and the page render, short-lived.

The form carries `<nonce>.<issued>.<mac>`, mac = HMAC(key, link token | nonce | issued); the page also sets
a `SameSite=Strict` cookie holding the nonce (double submit). A POST is accepted only when the MAC is
ours, it is recent, it names this link, and the cookie from the same browser repeats the nonce. Stateless,
so any replica checks what another rendered.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from approval.core.tokens import derive_key
from shared.contract.envelope import now_utc
from shared.links import b64

_SHAPE = re.compile(r"([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


class Csrf:
    """Issues and checks the form tokens of one deployment (its link secret, a purpose-specific key)."""

    def __init__(self, secret: str, max_age: timedelta = timedelta(hours=12),
                 clock: Callable[[], datetime] = now_utc) -> None:
        self._key, self.max_age, self._clock = derive_key(secret, "approval-csrf"), max_age, clock

    def issue(self, link_token: str) -> tuple[str, str]:
        """(form token, cookie nonce) for one render of the page of `link_token`."""
        nonce = b64(secrets.token_bytes(16))
        issued = str(int(self._clock().timestamp()))
        return f"{nonce}.{issued}.{self._mac(link_token, nonce, issued)}", nonce

    def check(self, link_token: str, form_token: object, cookie_nonce: object) -> bool:
        """True only for a recent token we issued for this link, repeated by the browser's cookie."""
        if not isinstance(form_token, str) or not isinstance(cookie_nonce, str):
            return False
        match = _SHAPE.fullmatch(form_token)
        if match is None:
            return False
        nonce, issued, mac = match.groups()
        if not hmac.compare_digest(mac, self._mac(link_token, nonce, issued)):
            return False
        if not hmac.compare_digest(nonce.encode(), cookie_nonce.encode("utf-8", "replace")):
            return False
        age = self._clock().timestamp() - int(issued)
        return -60 <= age <= self.max_age.total_seconds()  # a minute of clock skew between replicas

    def _mac(self, link_token: str, nonce: str, issued: str) -> str:
        message = f"{link_token}|{nonce}|{issued}".encode("utf-8", "replace")
        return b64(hmac.new(self._key, message, hashlib.sha256).digest())
