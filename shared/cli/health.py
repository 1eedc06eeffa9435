"""`backbone health`: every service's /readyz, the broker and every store, as one table."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
import typer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient

from shared.cli import render
from shared.cli.env import Env

READY_PATH = "/readyz"


async def _http(name: str, url: str, timeout: float) -> tuple[str, str, bool, str]:
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(url.rstrip("/") + READY_PATH)
        return name, url, response.status_code == 200, f"{response.status_code} {render.brief(response.text, 80)}"
    except httpx.HTTPError as exc:
        return name, url, False, f"{type(exc).__name__}: {exc}"


async def _broker(env: Env, timeout: float) -> tuple[str, str, bool, str]:
    admin = None
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=env.bootstrap, client_id="backbone-health",
                                    request_timeout_ms=int(timeout * 1000), **env.kafka())
        await asyncio.wait_for(admin.start(), timeout)
        topics = await asyncio.wait_for(admin.list_topics(), timeout)
        return "kafka", env.bootstrap, True, f"{len(topics)} topics"
    except Exception as exc:  # noqa: BLE001  # any failure is "down", said in the table
        return "kafka", env.bootstrap, False, f"{type(exc).__name__}: {exc}"
    finally:
        try:
            if admin is not None:
                await admin.close()
        except Exception:  # noqa: BLE001  # a client that never connected has little to close
            pass


def _store(name: str, url: str, timeout: float) -> tuple[str, str, bool, str]:
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=int(timeout * 1000))
    try:
        client.admin.command("ping")
        return name, url.split("@")[-1], True, "ping ok"
    except Exception as exc:  # noqa: BLE001
        return name, url.split("@")[-1], False, f"{type(exc).__name__}: {render.brief(str(exc), 120)}"
    finally:
        client.close()


async def check(env: Env, timeout: float) -> list[tuple[str, str, bool, str]]:
    """(what, where, up, detail) of each service, the broker and each distinct store."""
    stores = {k: v for k, v in env.values.items() if k.startswith("MONGODB_URL") and v}
    seen: dict[str, str] = {}
    for key, url in sorted(stores.items(), key=lambda item: item[0] == "MONGODB_URL"):  # a service's name first
        seen.setdefault(url, key.removeprefix("MONGODB_URL_").lower().replace("_", "-") if key != "MONGODB_URL" else key)
    checks = [_http(k.lower().removesuffix("_http").replace("_http_", "#"), v, timeout)
              for k, v in env.services_http().items()]
    results = list(await asyncio.gather(*checks, _broker(env, timeout)))
    stored = await asyncio.gather(*(asyncio.to_thread(_store, f"store {name}", url, timeout) for url, name in seen.items()))
    return results + list(stored)


def health(ctx: typer.Context,
           timeout: Annotated[float, typer.Option(help="Seconds each check may take.")] = 5.0) -> None:
    """Readiness of every service (<SERVICE>_HTTP), the broker and the stores; exit 1 when anything is down."""
    results = render.run(check(ctx.obj, timeout))
    rows = [(name, where, "[green]up[/green]" if up else "[red]DOWN[/red]", detail) for name, where, up, detail in results]
    table = render.table("health", ["what", "where", "state", "detail"], [])
    for name, where, state, detail in rows:
        table.add_row(render.escape(name), render.escape(where), state, render.escape(detail))
    render.console.print(table)
    if not results or not all(up for *_, up, _ in results):
        raise typer.Exit(1)
