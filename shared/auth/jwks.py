"""The issuer's public keys (a JWKS), fetched from a URL, cached, refreshed when a token names an unknown key."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKError, PyJWKSetError

Fetch = Callable[[], Awaitable[dict[str, Any]]]
MAX_JWKS_BYTES = 256 * 1024  # a key set is a few KiB; a bigger answer is not one


class JwksUnavailable(Exception):
    """The key set could not be fetched or read: tokens cannot be checked right now."""


def url_fetch(url: str, timeout: float = 5.0) -> Fetch:
    """A fetch of the JWKS at `url` (http or https), in a thread so the event loop keeps serving."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"OIDC JWKS URL must be http(s): {url!r}")

    def get() -> dict[str, Any]:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310  (scheme checked above)
            return json.loads(resp.read(MAX_JWKS_BYTES + 1)[:MAX_JWKS_BYTES])

    async def fetch() -> dict[str, Any]:
        return await asyncio.to_thread(get)

    return fetch


class JwksCache:
    """Keys by `kid`. An unknown `kid` refetches the set (the issuer rotated its key), at most once per
    `min_refresh_seconds`, so tokens with made-up kids cannot make us hammer the issuer."""

    def __init__(self, fetch: Fetch, min_refresh_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch, self._min_refresh, self._clock = fetch, min_refresh_seconds, clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self._log = structlog.get_logger().bind(component="jwks")

    async def key(self, kid: str) -> PyJWK | None:
        """The key named `kid`, or None when the issuer does not have it (after one refresh if allowed)."""
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and self._may_refresh():
                await self._refresh()
        return self._keys.get(kid)

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_refresh

    async def _refresh(self) -> None:
        try:
            raw = await self._fetch()
            keys = PyJWKSet.from_dict(raw).keys
        except (OSError, ValueError, TypeError, KeyError, PyJWKError, PyJWKSetError) as exc:
            self._log.warning("jwks.fetch_failed", error=str(exc)[:200])
            raise JwksUnavailable(str(exc)[:200]) from None
        self._fetched_at = self._clock()
        # Keys without a kid cannot be chosen by a token's header; only named keys are kept.
        self._keys = {k.key_id: k for k in keys if k.key_id}
        self._log.info("jwks.fetched", kids=sorted(self._keys))
