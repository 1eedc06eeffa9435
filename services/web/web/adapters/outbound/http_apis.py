"""httpx clients of intake's and approval's read APIs, called with the signed-in person's bearer token."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from web.ports import ApiError

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class _Client:
    def __init__(self, base_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT)

    async def get(self, path: str, token: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._client.get(self.base_url + path, params=params,
                                               headers={"Authorization": f"Bearer {token}",
                                                        "Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ApiError(0, f"{self.base_url} could not be reached ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise ApiError(response.status_code, _error_text(response))
        return response.json()

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("error") if isinstance(body, dict) else body)[:300]
    except ValueError:
        return f"HTTP {response.status_code}"


class HttpIntake(_Client):
    """Intake's `GET /cases/{id}` and `GET /cases`."""

    async def case(self, case_id: str, token: str) -> dict[str, Any]:
        """The case document; ApiError(404) when unknown."""
        return await self.get(f"/cases/{quote(case_id, safe='')}", token)

    async def cases(self, token: str, **filters: str) -> dict[str, Any]:
        """One page of the case list for the filters."""
        return await self.get("/cases", token, {k: v for k, v in filters.items() if v})


class HttpApproval(_Client):
    """Approval's `GET /approvals/waiting`."""

    async def waiting(self, token: str) -> list[dict[str, Any]]:
        """The open steps the person may decide."""
        return list((await self.get("/approvals/waiting", token)).get("items", []))
