"""The one place that opens MongoDB connections (PyMongo async API)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError


def connect(url: str, database: str) -> tuple[AsyncMongoClient, AsyncDatabase]:
    """A client and the deployment's database; UTC-aware datetimes everywhere."""
    # Journaled writes: a consumer commits its offset after the write, so the write must survive a crash
    # of the store (MongoDB: j=true; SecantusDB runs with --sync-on-commit locally as well).
    client: AsyncMongoClient = AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=10_000, journal=True)
    return client, client[database]


async def ping(client: AsyncMongoClient) -> bool:
    """True when the store answers."""
    try:
        await client.admin.command("ping")
    except Exception:  # any failure means "not healthy"; the reason is in the store's own logs
        return False
    return True


async def insert_new(collection: AsyncCollection, doc: dict[str, Any]) -> bool:
    """Insert `doc` unless a document with its `_id` exists; False then, so a redelivery creates nothing twice."""
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


async def unordered_bulk_write(coll: AsyncCollection, ops: Sequence[Any]) -> Any:
    """One unordered bulk of single-document writes (one round trip; each write stands alone).

    Not inside a transaction, although SecantusDB with --sync-on-commit then flushes its journal once
    for the whole bulk (about 8x the compare-and-set updates per second): a service killed between the
    bulk and its commit leaves the transaction open, and its documents stayed locked to every other
    writer for minutes (over 100 s measured), so a crash would stall the restarted service.
    """
    return await coll.bulk_write(list(ops), ordered=False)
