"""HTTP routes with `{param}` path templates, in front of a FastStream ASGI app.

FastStream's ASGI routes match exact paths only; a `Router` matches templates itself and hands
everything else (/health, lifespan, unknown paths) to the FastStream app.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import structlog
from faststream.asgi import AsgiResponse

Asgi = Callable[..., Awaitable[None]]


@dataclass
class Request:
    """What a handler gets: method, path parameters, query parameters (first value each) and the body."""

    method: str
    params: dict[str, str]
    query: dict[str, str]
    scope: dict[str, Any] = field(repr=False)
    _receive: Asgi = field(repr=False)

    async def body(self) -> bytes:
        """The whole request body."""
        chunks, more = [], True
        while more:
            message = await self._receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(await self.body())


Handler = Callable[[Request], Awaitable[AsgiResponse]]
Route = tuple[str, str, Handler]  # (method, path template with {param}, handler)


def json_response(body: Any, status: int = 200) -> AsgiResponse:
    """A JSON response; values JSON does not know (datetimes, ...) are written as strings."""
    return AsgiResponse(json.dumps(body, default=str).encode(), status, headers={"content-type": "application/json"})


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


class Router:
    """ASGI app: a request whose path matches a route's template goes to its handler, anything else to `app`.

    A matching path with another method answers 405; a handler that raises answers 500 (and is logged).
    """

    def __init__(self, app: Any, routes: Sequence[Route]) -> None:
        self.app = app
        self._routes = [(method.upper(), _pattern(template), handler) for method, template, handler in routes]
        self._log = structlog.get_logger().bind(component="http")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # the wrapped FastStream app's context, broker, ...

    async def __call__(self, scope: dict[str, Any], receive: Asgi, send: Asgi) -> None:
        if scope.get("type") == "http":
            response = await self._respond(scope, receive)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _respond(self, scope: dict[str, Any], receive: Asgi) -> AsgiResponse | None:
        allowed: list[str] = []
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        for route_method, pattern, handler in self._routes:
            found = pattern.match(scope["path"])
            if found is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            query = {k: v[0] for k, v in parse_qs((scope.get("query_string") or b"").decode()).items()}
            try:
                return await handler(Request(method, found.groupdict(), query, scope, receive))
            except Exception:  # one bad request must not take the service down
                self._log.exception("http.handler_failed", path=scope["path"])
                return json_response({"error": "internal error"}, 500)
        return json_response({"error": f"use {' or '.join(allowed)}"}, 405) if allowed else None
