"""The request limits in front of every route: 413 for a big body without reading it whole, 400 for deep JSON."""

from __future__ import annotations

import json

import pytest

from shared.runtime.api.limits import RequestLimits

MAX, DEPTH = 1000, 4


class Echo:
    """An app that reads the whole body and answers its length; records whether it was called."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope, receive, send):
        self.called = True
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


async def call(app, chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None):
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    read = []
    sent = []

    async def receive():
        if pending:
            read.append(pending[0]["body"])
            return pending.pop(0)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": headers or []}
    await app(scope, receive, send)
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return status, body, read


async def test_a_body_within_the_limit_reaches_the_app_whole():
    echo = Echo()
    status, body, _ = await call(RequestLimits(echo, MAX, DEPTH), [b'{"a": ', b"[1, 2]}"])
    assert (status, body) == (200, b"13")


async def test_a_declared_length_over_the_limit_gets_413_before_any_byte_is_read():
    echo = Echo()
    status, body, read = await call(RequestLimits(echo, MAX, DEPTH), [b"x" * 10_000_000],
                                    headers=[(b"content-length", b"10000000")])
    assert status == 413 and read == [] and not echo.called and "limit of 1000 bytes" in json.loads(body)["error"]


async def test_a_streamed_body_gets_413_as_soon_as_it_passes_the_limit():
    echo = Echo()
    chunks = [b"x" * 400] * 25_000  # 10 MB in chunks, no Content-Length
    status, _, read = await call(RequestLimits(echo, MAX, DEPTH), chunks)
    assert status == 413 and len(read) == 3 and not echo.called  # stopped at the third chunk


@pytest.mark.parametrize(("declared", "status"), [(b"abc", 400), (b"-1", 400)])
async def test_a_bad_content_length_is_refused(declared, status):
    assert (await call(RequestLimits(Echo(), MAX, DEPTH), [b"{}"], [(b"content-length", declared)]))[0] == status


async def test_json_nested_deeper_than_the_limit_gets_400_before_parsing():
    echo = Echo()
    status, body, _ = await call(RequestLimits(echo, MAX, DEPTH), [b"[[[[[1]]]]]"],
                                 [(b"content-type", b"application/json")])
    assert status == 400 and "nested deeper" in json.loads(body)["error"] and not echo.called
    assert (await call(RequestLimits(Echo(), MAX, DEPTH), [b"[[[[1]]]]"]))[0] == 200  # at the limit: fine
    # Brackets inside strings are text, not nesting.
    assert (await call(RequestLimits(Echo(), MAX, DEPTH), [b'{"a": "[[[[[[[["}']))[0] == 200


async def test_a_form_body_is_not_read_as_json():
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    assert (await call(RequestLimits(Echo(), MAX, DEPTH), [b"comment=[[[[[[[[[["], headers))[0] == 200


async def test_lifespan_and_other_scopes_pass_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    await RequestLimits(app, MAX, DEPTH)({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]
