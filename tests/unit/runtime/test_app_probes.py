"""/livez and /readyz of every service app, without Kafka or a store: an unreachable broker is the default here."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from shared.runtime.app import create_app, create_broker
from shared.runtime.background import Loop
from shared.settings import Settings

NOWHERE = Settings(kafka_bootstrap_servers="127.0.0.1:9")  # nothing listens: the broker is "down"


async def up() -> bool:
    return True


async def down() -> bool:
    return False


async def hangs() -> bool:
    await asyncio.sleep(3600)
    return True


async def fails() -> bool:
    raise ConnectionError("store gone")


async def idle() -> None:
    pass


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


async def started(app) -> None:
    """Run the after-startup hooks (the broker itself is not started: it has nowhere to connect)."""
    for hook in app._after_startup_calling:
        await hook()


async def test_livez_answers_while_starting_without_asking_kafka():
    app = create_app(create_broker(NOWHERE), checks={"store": hangs})
    async with client(app) as http:
        live = await asyncio.wait_for(http.get("/livez"), 2)  # a dependency call would take seconds
        ready = await http.get("/readyz")
    assert live.status_code == 200 and live.json()["phase"] == "starting"
    assert ready.status_code == 503 and ready.json()["started"] == "down"


async def test_readyz_is_503_when_the_broker_is_down_and_livez_stays_200():
    app = create_app(create_broker(NOWHERE), checks={"store": up})
    await started(app)
    async with client(app) as http:
        ready, live = await http.get("/readyz"), await http.get("/livez")
    assert ready.status_code == 503
    assert ready.json() | {"phase": None} == {"started": "up", "kafka": "down", "store": "up", "phase": None}
    assert live.status_code == 200 and live.json() == {"phase": "ready", "dead_loops": []}


@pytest.mark.parametrize("store", [down, fails, hangs], ids=["down", "raises", "hangs"])
async def test_readyz_is_503_when_the_store_is_down(store, monkeypatch):
    monkeypatch.setattr("shared.runtime.probes.CHECK_SECONDS", 0.2)
    broker = create_broker(NOWHERE)

    async def kafka_up(timeout=None):  # noqa: ARG001
        return True

    monkeypatch.setattr(broker, "ping", kafka_up)
    app = create_app(broker, checks={"store": store})
    await started(app)
    async with client(app) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 503 and ready.json()["store"] == "down" and ready.json()["kafka"] == "up"


async def test_readyz_is_200_when_started_and_every_dependency_answers(monkeypatch):
    broker = create_broker(NOWHERE)

    async def kafka_up(timeout=None):  # noqa: ARG001
        return True

    monkeypatch.setattr(broker, "ping", kafka_up)
    app = create_app(broker, checks={"store": up})
    await started(app)
    async with client(app) as http:
        ready, alias = await http.get("/readyz"), await http.get("/health")
    assert ready.status_code == 200 and alias.status_code == 200


async def test_livez_is_503_when_a_background_loop_has_died():
    loop = Loop(idle, 0.01, "outbox-relay")
    app = create_app(create_broker(NOWHERE), background=[loop])
    await started(app)
    try:
        async with client(app) as http:
            assert (await http.get("/livez")).status_code == 200
            loop._task.cancel()  # dies the way an uncaught BaseException would kill it
            await asyncio.sleep(0.05)
            live = await http.get("/livez")
        assert live.status_code == 503 and live.json()["dead_loops"] == ["outbox-relay"]
    finally:
        await loop.stop()


async def test_draining_makes_readyz_503_and_livez_stays_200(monkeypatch):
    broker = create_broker(NOWHERE)

    async def kafka_up(timeout=None):  # noqa: ARG001
        return True

    monkeypatch.setattr(broker, "ping", kafka_up)
    loop = Loop(idle, 0.01, "marks")
    app = create_app(broker, checks={"store": up}, background=[loop])
    await started(app)
    await app._on_shutdown_calling[0]()  # the first shutdown hook: begin the drain
    await loop.stop()  # the drain stops loops on purpose: that is not a death
    async with client(app) as http:
        ready, live = await http.get("/readyz"), await http.get("/livez")
    assert ready.status_code == 503 and ready.json()["phase"] == "draining"
    assert live.status_code == 200
