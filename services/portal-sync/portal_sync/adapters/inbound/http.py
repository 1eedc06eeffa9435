"""The portal's HTTP read side: path-parameter routes in front of the FastStream app.

FastStream's ASGI routes match exact paths only, so this small router matches `/cases/{id}` and
`/accounts/{id}/cases` itself and hands everything else (/health, lifespan) to the FastStream app.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from faststream.asgi import AsgiResponse
from faststream.asgi.request import AsgiRequest

from portal_sync.messages import CustomerMessages
from portal_sync.ports.store import ProjectionStore

Asgi = Callable[..., Awaitable[None]]


def _json(status: int, body: Any) -> AsgiResponse:
    return AsgiResponse(json.dumps(body, default=str).encode(), status, headers={"content-type": "application/json"})


class PortalRoutes:
    """ASGI app: GET /cases/{id}, GET /accounts/{id}/cases, POST /cases/{id}/messages; else the inner app."""

    def __init__(self, inner: Asgi, store: ProjectionStore, messages: CustomerMessages) -> None:
        self.inner, self._store, self._messages = inner, store, messages
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Awaitable[AsgiResponse]]]] = [
            ("GET", re.compile(r"^/cases/([^/]+)$"), self._case),
            ("GET", re.compile(r"^/accounts/([^/]+)/cases$"), self._account),
            ("POST", re.compile(r"^/cases/([^/]+)/messages$"), self._message),
        ]

    async def __call__(self, scope: dict, receive: Asgi, send: Asgi) -> None:
        if scope["type"] == "http":
            for method, pattern, handler in self._routes:
                found = pattern.match(scope["path"])
                if found:
                    if scope["method"] != method:
                        response = _json(405, {"error": f"use {method}"})
                    else:
                        response = await handler(unquote(found.group(1)), AsgiRequest(scope, receive, send))
                    await response(scope, receive, send)
                    return
        await self.inner(scope, receive, send)

    async def _case(self, case_id: str, _: AsgiRequest) -> AsgiResponse:
        active = await self._store.active()
        stored = await self._store.get(active.number, case_id) if active else None
        if stored is None:
            return _json(404, {"error": f"The portal shows no case {case_id}."})
        return _json(200, stored.state.record.model_dump(mode="json"))

    async def _account(self, account_id: str, _: AsgiRequest) -> AsgiResponse:
        active = await self._store.active()
        states = await self._store.by_account(active.number, account_id) if active else []
        cases = sorted((s.record.model_dump(mode="json") for s in states), key=lambda r: r["changed_at"], reverse=True)
        return _json(200, {"account_id": account_id, "cases": cases})

    async def _message(self, case_id: str, request: AsgiRequest) -> AsgiResponse:
        try:
            body = await request.json()
        except ValueError:
            return _json(400, {"error": "The body must be JSON: {\"message\": ..., \"customer_id\": ...}."})
        reply = await self._messages.post(case_id, body)
        return _json(reply.status, reply.body)
