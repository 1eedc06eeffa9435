"""The store server's operation counters (`serverStatus.opcounters`), summed over every store the stack runs."""

from __future__ import annotations

from collections import Counter

from pymongo import MongoClient

FIELDS = ("query", "insert", "update", "delete", "getmore", "command")


def store_urls(stack) -> list[str]:  # noqa: ANN001  (deploy/local LocalStack)
    """The URL of each store server the stack started, else the one its services were given."""
    stores = getattr(stack, "stores", None) or ([stack.store] if stack.store else [])
    return [store.url for store in stores] or [stack.env["MONGODB_URL"]]


def opcounters(urls: list[str]) -> tuple[Counter | None, str]:
    """Summed opcounters of the servers, or (None, why) when a server does not report them."""
    total: Counter = Counter()
    for url in urls:
        client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=3000)
        try:
            counters = client.admin.command("serverStatus").get("opcounters")
        except Exception as exc:  # an older or partial Mongo-wire server
            return None, f"serverStatus failed: {exc}"
        finally:
            client.close()
        if not counters:
            return None, "serverStatus has no opcounters"
        total.update({f: int(counters.get(f, 0) or 0) for f in FIELDS})
    return total, ""


def per_command(before: Counter | None, after: Counter | None, commands: int) -> dict[str, float] | None:
    """Operations of each kind per command between two readings (None when unknown)."""
    if before is None or after is None or not commands:
        return None
    return {f: (after[f] - before[f]) / commands for f in FIELDS}
