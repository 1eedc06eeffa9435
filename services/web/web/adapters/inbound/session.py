"""The session: the person's bearer token in an HttpOnly, SameSite=Strict cookie, verified on every request."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote

import structlog
from fastapi import Request
from fastapi.responses import Response

from shared.auth import Auth, Principal
from shared.auth.jwks import JwksUnavailable
from shared.auth.tokens import TokenRefused

SESSION = "web_session"
SIGNIN_NONCE = "web_signin"
SIGNIN_NONCE_SECONDS = 1800


@dataclass(frozen=True)
class Session:
    """A signed-in person: who (from the directory) and the token the pages call the APIs with."""

    person: Principal
    token: str
    expires: int


class Sessions:
    """Reads and writes the session cookie; a token that no longer verifies is no session."""

    def __init__(self, auth: Auth) -> None:
        self._auth = auth
        self._log = structlog.get_logger().bind(component="web.session")

    async def of(self, request: Request) -> Session | None:
        """The request's verified staff session, or None (no cookie, refused token, or not staff)."""
        token = request.cookies.get(SESSION)
        return await self.verify(token) if token else None

    async def verify(self, token: str) -> Session | None:
        """The session `token` opens, or None; a customer's token opens none (these are staff pages)."""
        if self._auth.verifier is None:
            return None
        try:
            verified = await self._auth.verifier.verify(token)
        except TokenRefused as exc:
            self._log.info("web.session_refused", reason=str(exc))
            return None
        except JwksUnavailable:
            self._log.warning("web.issuer_keys_unavailable")
            return None
        person = self._auth.principals.resolve(verified.subject)
        if person is None or not person.is_staff:
            return None
        return Session(person, token, int(verified.claims.get("exp", 0)))

    @staticmethod
    def open(response: Response, session: Session, secure: bool) -> None:
        """Set the cookie for as long as the token lives; scripts never see it, other sites never send it."""
        response.set_cookie(SESSION, session.token, max_age=max(session.expires - int(time.time()), 0), path="/",
                            secure=secure, httponly=True, samesite="strict")
        response.delete_cookie(SIGNIN_NONCE, path="/signin")

    @staticmethod
    def close(response: Response, secure: bool) -> None:
        """Forget the session in this browser."""
        response.delete_cookie(SESSION, path="/", secure=secure, httponly=True, samesite="strict")


def signin_url(request: Request) -> str:
    """Where an anonymous request is sent: the sign-in page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/signin?next={quote(target, safe='')}"
