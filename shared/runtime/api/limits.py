"""Request limits in front of every HTTP route: body size (counted as it streams in) and JSON nesting depth."""

from __future__ import annotations

import json
from typing import Any

from shared.runtime.json_guard import nesting_depth

Scope = dict[str, Any]
_JSON_TYPES = (b"json",)  # application/json, application/*+json


async def _answer(send: Any, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """ASGI middleware: a body over `max_bytes` gets 413 (a declared Content-Length before anything is read,
    otherwise as soon as the count passes it); a JSON body nested deeper than `json_depth` gets 400, before
    any parser recurses into it. The checked body is handed on to the app as one chunk."""

    def __init__(self, app: Any, max_bytes: int, json_depth: int) -> None:
        self.app, self.max_bytes, self.json_depth = app, max_bytes, json_depth

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _answer(send, 400, "Content-Length is not a number")
                return
            if int(declared) > self.max_bytes:
                await _answer(send, 413, f"request body over the limit of {self.max_bytes} bytes")
                return
        chunks: list[bytes] = []
        total, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nobody to answer
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:  # chunked or lying about its length: stop reading here
                await _answer(send, 413, f"request body over the limit of {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"application/json").lower()
        if body and any(t in content_type for t in _JSON_TYPES) and nesting_depth(body, self.json_depth) > self.json_depth:
            await _answer(send, 400, f"JSON nested deeper than the limit of {self.json_depth} levels")
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replayed
