"""Bearer token verification: a JWT signed by the configured OIDC issuer, for this audience, not expired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from shared.auth.jwks import JwksCache
from shared.runtime.json_guard import is_clean

# Asymmetric only: with HS256 the public JWKS would be the signing secret, and `none` signs nothing.
ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 30  # clock skew between the issuer and us
MAX_TOKEN_CHARS = 8192


class TokenRefused(Exception):
    """The token is not one we accept; the message says why (it goes to the client as error_description)."""


@dataclass(frozen=True)
class VerifiedToken:
    """What a verified token says: its subject and all its claims."""

    subject: str
    claims: dict[str, Any]


class TokenVerifier:
    """Checks signature (key from the JWKS by `kid`), algorithm, `iss`, `aud`, `exp`, `nbf` and `sub`."""

    def __init__(self, jwks: JwksCache, issuer: str, audience: str) -> None:
        self._jwks, self._issuer, self._audience = jwks, issuer, audience

    async def verify(self, token: str) -> VerifiedToken:
        """The verified token; raises TokenRefused (or JwksUnavailable when the keys cannot be fetched)."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenRefused("token missing or too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("not a JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise TokenRefused(f"algorithm {str(alg)[:20]!r} is not accepted")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("token names no key (kid)")
        key = await self._jwks.key(kid)
        if key is None:
            raise TokenRefused("token signed with a key the issuer does not publish")
        if key.algorithm_name != alg:  # an RSA key must not check an ES256 signature, nor the reverse
            raise TokenRefused("token algorithm does not match its key")
        try:
            claims = jwt.decode(token, key.key, algorithms=[alg], audience=self._audience, issuer=self._issuer,
                                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise TokenRefused("token expired") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused("token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused("token is from another issuer") from None
        except jwt.PyJWTError as exc:  # bad signature, wrong key type, missing claim, ...
            raise TokenRefused(f"invalid token: {str(exc)[:120]}") from None
        except (ValueError, TypeError):  # a key that does not fit the algorithm
            raise TokenRefused("invalid token") from None
        subject = claims.get("sub")
        if not is_clean(subject, 200):
            raise TokenRefused("token has no usable subject")
        return VerifiedToken(subject, claims)
