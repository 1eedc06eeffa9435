"""The shared path-template router: matching, parameters, query, JSON body, 404/405/500, fall-through."""

from __future__ import annotations

import httpx
import pytest

from shared.runtime.http import Request, Router, json_response


async def inner(scope, receive, send):
    """Stands for the FastStream app: answers everything the router does not."""
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"inner " + scope["path"].encode()})


async def echo(request: Request):
    return json_response({"method": request.method, "params": request.params, "query": request.query})


async def post_body(request: Request):
    try:
        body = await request.json()
    except ValueError:
        return json_response({"error": "not json"}, 400)
    return json_response({"id": request.params["id"], "body": body}, 201)


async def boom(request: Request):
    raise RuntimeError("bug")


@pytest.fixture
async def client():
    routes = [("GET", "/things/{id}", echo), ("POST", "/things/{id}", post_body),
              ("GET", "/a/{x}/b/{y}", echo), ("GET", "/list", echo), ("GET", "/boom", boom)]
    app = Router(inner, routes)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_path_params_and_first_query_values(client):
    reply = await client.get("/a/one/b/two?k=1&k=2&empty=")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    assert reply.json() == {"method": "GET", "params": {"x": "one", "y": "two"}, "query": {"k": "1"}}


async def test_exact_paths_and_query_only_routes(client):
    assert (await client.get("/list?case_id=C-1")).json()["query"] == {"case_id": "C-1"}


async def test_same_template_dispatches_on_method_and_reads_json(client):
    reply = await client.post("/things/7", json={"a": 1})
    assert reply.status_code == 201 and reply.json() == {"id": "7", "body": {"a": 1}}
    assert (await client.post("/things/7", content=b"{")).status_code == 400
    assert (await client.get("/things/7")).json()["params"] == {"id": "7"}


async def test_wrong_method_is_405_with_the_allowed_one(client):
    reply = await client.delete("/things/7")
    assert reply.status_code == 405 and reply.json() == {"error": "use GET or POST"}


async def test_head_is_answered_like_get(client):
    assert (await client.head("/things/7")).status_code == 200


async def test_everything_else_goes_to_the_inner_app(client):
    for path in ("/health", "/things", "/things/7/more", "/a/1/b"):
        reply = await client.get(path)
        assert reply.status_code == 404 and reply.text == f"inner {path}"


async def test_a_failing_handler_answers_500_and_the_router_keeps_serving(client):
    reply = await client.get("/boom")
    assert reply.status_code == 500 and reply.json() == {"error": "internal error"}
    assert (await client.get("/things/1")).status_code == 200


async def test_router_forwards_attributes_and_lifespan_to_the_app():
    seen = []

    class App:
        context = "ctx"

        async def __call__(self, scope, receive, send):
            seen.append(scope["type"])

    router = Router(App(), [("GET", "/x", echo)])
    assert router.context == "ctx"
    await router({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]


def test_json_response_writes_unknown_values_as_strings():
    from datetime import UTC, datetime

    response = json_response({"at": datetime(2026, 1, 2, tzinfo=UTC)}, 202)
    assert response.status_code == 202 and b"2026-01-02 00:00:00+00:00" in response.body
