"""The one place that opens MongoDB connections (PyMongo async API)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConfigurationError, DuplicateKeyError, OperationFailure


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


NO_TRANSACTIONS = (20, 263)  # IllegalOperation (a standalone server), OperationNotSupportedInTransaction
_without_transactions: set[int] = set()  # clients whose server has none: plain bulks from then on


async def grouped_bulk_write(coll: AsyncCollection, ops: Sequence[Any]) -> Any:
    """One unordered bulk of single-document writes, committed together where the server can.

    Inside a transaction the store flushes its journal once for the whole bulk instead of once per
    update (SecantusDB with --sync-on-commit: about 8x the compare-and-set updates per second). Nothing
    relies on the transaction for correctness: each write is still a single-document write that
    stands alone. A transaction that fails for a write's sake (a duplicate key, a write conflict)
    wrote nothing, so the same bulk is then sent plainly and reports each document's outcome.
    """
    client = coll.database.client
    if id(client) not in _without_transactions:
        try:
            async with client.start_session() as session:
                async with await session.start_transaction():
                    return await coll.bulk_write(list(ops), ordered=False, session=session)
        except (BulkWriteError, OperationFailure) as exc:
            if getattr(exc, "code", None) in NO_TRANSACTIONS or "replica set" in str(exc):
                _without_transactions.add(id(client))
        except ConfigurationError:  # a topology without sessions or transactions
            _without_transactions.add(id(client))
    return await coll.bulk_write(list(ops), ordered=False)
