"""A service app with routers: FastAPI in front, FastStream's probes and lifespan behind, answers as JSON."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Depends
from faststream.kafka import TestKafkaBroker

from shared.auth import Auth, Principal
from shared.runtime.app import create_app, create_broker
from shared.settings import Settings
from tests.support.oidc import bearer

NOWHERE = Settings(kafka_bootstrap_servers="127.0.0.1:9", http_max_body_bytes=100)


def routes(auth: Auth) -> APIRouter:
    router = APIRouter()

    @router.get("/me")
    async def me(caller: Principal = Depends(auth.principal)) -> dict:  # noqa: B008
        return {"id": caller.id, "kind": caller.kind}

    @router.post("/echo")
    async def echo(body: dict) -> dict:
        return body

    @router.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("bug")

    return router


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://svc")


async def test_probes_need_no_token_and_routes_do():
    from tests.support.oidc import auth

    app = create_app(create_broker(NOWHERE), routers=[routes(auth())], settings=NOWHERE)
    async with client(app) as http:
        assert (await http.get("/livez")).json()["phase"] == "starting"  # FastStream's probe, as before
        assert (await http.get("/readyz")).status_code == 503
        assert (await http.get("/health")).status_code == 503
        assert (await http.get("/me")).status_code == 401
        assert (await http.get("/me", headers=bearer("mary"))).json() == {"id": "mary", "kind": "staff"}
        assert (await http.get("/me", headers=bearer("cust.ola"))).json()["kind"] == "customer"


async def test_errors_are_json_with_an_error_field_and_never_a_bare_500():
    app = create_app(create_broker(NOWHERE), routers=[routes(Auth(None, quiet=True))], settings=NOWHERE)
    async with client(app) as http:
        missing = await http.get("/nope")
        assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
        assert (await http.put("/echo")).status_code == 405
        invalid = await http.post("/echo", content=b"[1]", headers={"content-type": "application/json"})
        assert invalid.status_code == 422 and invalid.json()["error"]
        assert (await http.post("/echo", json={"x": "y" * 200})).status_code == 413  # the settings' limit
        failed = await http.get("/boom")
        assert failed.status_code == 500 and failed.json() == {"error": "internal error"}
        unconfigured = await http.get("/me", headers=bearer("mary"))  # no issuer configured: nothing is accepted
        assert unconfigured.status_code == 401 and "no issuer" in unconfigured.json()["error"]
        served = await http.get("/openapi.json")  # the contract, without a token (also exported to docs/openapi/)
        assert served.status_code == 200 and "/echo" in served.json()["paths"]
        assert (await http.get("/docs")).status_code == 404  # no Swagger UI: it would load scripts from elsewhere


async def test_the_lifespan_is_faststreams_start_hooks_and_drain():
    events: list[str] = []
    broker = create_broker(NOWHERE)

    async def startup() -> None:
        events.append("startup")

    async def closed() -> None:
        events.append("closed")

    app = create_app(broker, routers=[routes(Auth(None, quiet=True))], settings=NOWHERE,
                     on_startup=[startup], after_shutdown=[closed])
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: list[str] = []

    async def send(message) -> None:
        outbox.append(message["type"])

    async with TestKafkaBroker(broker):
        await inbox.put({"type": "lifespan.startup"})
        task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send))
        for _ in range(100):  # a bounded wait for the outcome, not a timing assertion
            if outbox:
                break
            await asyncio.sleep(0.05)
        assert outbox == ["lifespan.startup.complete"] and events == ["startup"]
        async with client(app) as http:
            assert (await http.get("/livez")).json()["phase"] == "ready"
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, 10)
    assert outbox[-1] == "lifespan.shutdown.complete" and events == ["startup", "closed"]
