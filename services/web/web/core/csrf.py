"""CSRF tokens of the staff forms: an HMAC of what the browser's own cookie holds (signed double submit).

A signed-in form carries HMAC(key, session token); the sign-in form, before any session, HMAC(key, a nonce)
kept in a short-lived cookie. A cross-site page can neither read the cookie nor compute the MAC, and the
cookies are `SameSite=Strict` besides. Stateless: any replica with the same secret checks any other's forms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


class Csrf:
    """Issues and checks form tokens bound to a cookie value (the session token, or the sign-in nonce)."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"web-csrf|" + secret.encode()).digest()

    @staticmethod
    def nonce() -> str:
        """A fresh random value for the sign-in cookie."""
        return secrets.token_urlsafe(24)

    def issue(self, bound_to: str) -> str:
        """The form token of the browser whose cookie holds `bound_to`."""
        return hmac.new(self._key, bound_to.encode(), hashlib.sha256).hexdigest()

    def check(self, bound_to: str | None, form_token: object) -> bool:
        """True only when the form's token is the one issued for this browser's cookie."""
        if not bound_to or not isinstance(form_token, str) or len(form_token) != 64:
            return False
        return hmac.compare_digest(self.issue(bound_to), form_token)
