"""Local sign-in: the development issuer's `POST /token` (deploy/local/oidc_issuer.py) mints a person's token.

Only ever configured locally (WEB_DEV_ISSUER_TOKEN_URL); a deployment signs people in with the
organisation's OIDC code flow, which this service does not implement yet (docs/web.md).
"""

from __future__ import annotations

import httpx

from web.ports import SignInRefused


class DevIssuerSignIn:
    """Asks the development issuer for a token; without a URL nobody can sign in."""

    def __init__(self, token_url: str | None, client: httpx.AsyncClient | None = None) -> None:
        self._url = token_url or None
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(5.0))

    @property
    def available(self) -> bool:
        """True when a development issuer is configured."""
        return self._url is not None

    async def token_for(self, person: str) -> str:
        """The issuer's token for `person` (it refuses anyone not in the people directory)."""
        if self._url is None:
            raise SignInRefused("No sign-in is configured for this deployment.")
        try:
            response = await self._client.post(self._url, data={"sub": person})
        except httpx.HTTPError:
            raise SignInRefused("The sign-in service cannot be reached; try again shortly.") from None
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            raise SignInRefused(str(body.get("error") or "The sign-in service refused this person."))
        return body["access_token"]

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
