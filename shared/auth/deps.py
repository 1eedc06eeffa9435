"""FastAPI dependencies: the bearer token verified, its subject resolved to a principal, roles checked."""

# No `from __future__ import annotations`: FastAPI reads these signatures, and they name local dependencies.
import re
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.jwks import JwksCache, JwksUnavailable, url_fetch
from shared.auth.principal import Principal, Principals
from shared.auth.tokens import TokenRefused, TokenVerifier
from shared.settings import Settings

REALM = "case-backbone"
_UNQUOTABLE = re.compile(r'[^ -~]|["\\]')
# auto_error=False: a missing or non-Bearer header gets our 401 with WWW-Authenticate, not FastAPI's 403.
BEARER = HTTPBearer(auto_error=False, bearerFormat="JWT", description="A JWT from the OIDC issuer (OIDC_ISSUER).")


def unauthorized(description: str | None = None) -> HTTPException:
    """401 with the RFC 6750 challenge; `description` (why the token was refused) goes in error_description."""
    challenge = f'Bearer realm="{REALM}"'
    if description:
        quoted = _UNQUOTABLE.sub("", description)  # a quoted-string may not hold quotes, backslashes, controls
        challenge += f', error="invalid_token", error_description="{quoted}"'
    return HTTPException(401, description or "a bearer token is required", headers={"WWW-Authenticate": challenge})


def forbidden(reason: str) -> HTTPException:
    """403: the caller is known but may not do this."""
    return HTTPException(403, reason)


class Auth:
    """The dependencies a router declares: `principal` (any verified caller), `staff` (people of the directory)."""

    def __init__(self, verifier: TokenVerifier | None, principals: Principals | None = None, *,
                 quiet: bool = False) -> None:
        self.verifier, self.principals = verifier, principals or Principals()
        log = structlog.get_logger().bind(component="auth")
        if verifier is None and not quiet:
            log.warning("auth.no_issuer", detail="OIDC_JWKS_URL/OIDC_ISSUER unset: every authenticated request gets 401")

        async def principal(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Principal:
            """The verified caller."""
            if credentials is None:
                raise unauthorized()
            if self.verifier is None:
                raise unauthorized("this service accepts no tokens: no issuer is configured")
            try:
                token = await self.verifier.verify(credentials.credentials)
            except TokenRefused as exc:
                log.info("auth.token_rejected", reason=str(exc))
                raise unauthorized(str(exc)) from None
            except JwksUnavailable:
                raise HTTPException(503, "the token issuer's keys cannot be fetched; try again",
                                    headers={"Retry-After": "5"}) from None
            found = self.principals.resolve(token.subject)
            if found is None:
                raise forbidden(f"{token.subject} is neither in the people directory nor a customer contact")
            return found

        async def staff(caller: Annotated[Principal, Depends(principal)]) -> Principal:
            """A person of the people directory; customers are refused."""
            if not caller.is_staff:
                raise forbidden("staff only")
            return caller

        self.principal, self.staff = principal, staff

    @classmethod
    def from_settings(cls, settings: Settings, principals: Principals | None = None) -> "Auth":
        """Tokens from `settings.oidc_issuer`, keys from `settings.oidc_jwks_url`, for `settings.oidc_audience`."""
        if not (settings.oidc_jwks_url and settings.oidc_issuer):
            return cls(None, principals)
        verifier = TokenVerifier(JwksCache(url_fetch(settings.oidc_jwks_url)), settings.oidc_issuer,
                                 settings.oidc_audience)
        return cls(verifier, principals)


def require_customer(caller: Principal) -> Principal:
    """The caller when a customer; 403 for staff (they may not speak as a customer)."""
    if caller.kind != "customer":
        raise forbidden("only a customer contact may do this")
    return caller
