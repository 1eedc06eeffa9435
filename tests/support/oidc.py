"""The development issuer for tests: one per test session on a free port; tokens and headers for requests."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from oidc_issuer import Issuer  # deploy/local is on the tests' path

from shared.auth import Auth
from shared.auth.jwks import JwksCache, url_fetch
from shared.auth.tokens import TokenVerifier

_lock = threading.Lock()
_issuer: Issuer | None = None


def dev_issuer() -> Issuer:
    """The session's issuer, started on first use (a daemon thread; it ends with the test process)."""
    global _issuer
    with _lock:
        if _issuer is None:
            _issuer = Issuer(Path(tempfile.mkdtemp(prefix="oidc-"))).start()
        return _issuer


def oidc_env() -> dict[str, str]:
    """OIDC_ISSUER, OIDC_JWKS_URL and OIDC_AUDIENCE of the session's issuer, for a service process."""
    return dev_issuer().env


def token(who: str, **claims: object) -> str:
    """A bearer token for `who` (a person of the directory)."""
    return dev_issuer().mint(who, **claims)


def bearer(who: str) -> dict[str, str]:
    """The Authorization header for `who`."""
    return {"Authorization": f"Bearer {token(who)}"}


def auth() -> Auth:
    """An `Auth` accepting the session issuer's tokens, for routers under test (JWKS over the issuer's HTTP)."""
    issuer = dev_issuer()
    return Auth(TokenVerifier(JwksCache(url_fetch(issuer.env["OIDC_JWKS_URL"])), issuer.issuer, issuer.audience))
