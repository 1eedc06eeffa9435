"""What routing reads per decision, held in memory: the rule set, account owners, open cases per person.

Each is read from the store at start-up, kept current by what this process writes or consumes, and
read again every REFRESH_SECONDS for what other replicas wrote (they share the store, not the events).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from routing.core.commands import RulesDoc
from routing.core.load import OpenLoad
from routing.core.rules import RuleSet, parse_rule_set
from routing.core.view import CaseView
from routing.ports.store import RoutingStore
from shared.directory import Directory
from shared.lifecycles import Lifecycle
from shared.runtime.background import Loop
from shared.runtime.unit_of_work import AggregateStore, Change, Loaded

REFRESH_SECONDS = 5.0


class RulesInForce:
    """The rule set in force, parsed once per version; re-read after a rules.upsert and on refresh."""

    def __init__(self, store: RoutingStore, directory: Directory, lcs: dict[str, Lifecycle]) -> None:
        self._store, self._directory, self._lcs = store, directory, lcs
        self._cached: RuleSet | None = None

    async def get(self) -> RuleSet:
        """The current rule set (read from the store the first time; raises if none was ever put in force)."""
        if self._cached is None:
            await self.refresh()
        if self._cached is None:
            raise RuntimeError("no routing rule set in force")
        return self._cached

    async def refresh(self) -> None:
        """Read the stored set again; parsed only if its version changed."""
        doc = await self._store.rules()
        if doc is not None:
            self._cached = self.parsed(RulesDoc.model_validate(doc))

    def parsed(self, doc: RulesDoc) -> RuleSet:
        """A stored set as a RuleSet (the cached one when the version matches)."""
        if self._cached is None or self._cached.version != doc.version:
            return parse_rule_set(doc.raw, self._directory, self._lcs)
        return self._cached


class AccountOwners:
    """Owners of the accounts of the directory copy (account.upserted), by account id."""

    def __init__(self, store: RoutingStore) -> None:
        self._store, self._owners = store, dict[str, str | None]()
        self._during_read: dict[str, str | None] | None = None

    def __call__(self, account_id: str) -> str | None:
        return self._owners.get(account_id)

    async def upsert(self, entries: dict[str, dict[str, Any]]) -> None:
        """Store upserted accounts, then know their owners at once."""
        await self._store.upsert_accounts(entries)
        owners = {key: entry.get("owner") for key, entry in entries.items()}
        self._owners.update(owners)
        if self._during_read is not None:  # the refresh's read may predate the write: applied again after it
            self._during_read.update(owners)

    async def refresh(self) -> None:
        """Every stored owner, with the upserts applied while reading on top."""
        self._during_read = {}
        try:
            stored = await self._store.account_owners()
            self._owners = {**stored, **self._during_read}
        finally:
            self._during_read = None


class CountedViews:
    """The views' aggregate store, moving the open-load counters by every view it writes."""

    def __init__(self, views: AggregateStore[CaseView], load: OpenLoad) -> None:
        self._views, self._load, self.outbox = views, load, views.outbox
        self.replaces_outbox = getattr(views, "replaces_outbox", False)

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[CaseView]]:
        return await self._views.load(keys)

    async def save(self, changes: Sequence[Change[CaseView]]) -> set[str]:
        lost = await self._views.save(changes)
        for change in changes:
            if change.key not in lost:
                self._load.moved(change.loaded.state if change.loaded else None, change.state)
        return lost


class Caches:
    """The three together, refreshed in the background (`loop`) and on first use."""

    def __init__(self, store: RoutingStore, directory: Directory, lcs: dict[str, Lifecycle],
                 interval: float = REFRESH_SECONDS) -> None:
        self._store = store
        self.rules, self.owners, self.load = RulesInForce(store, directory, lcs), AccountOwners(store), OpenLoad()
        self.loop = Loop(self.refresh, interval, "routing_caches")
        self._ready = False

    async def refresh(self) -> None:
        """Read all three again from the store."""
        await self.rules.refresh()
        await self.owners.refresh()
        self.load.reading()
        self.load.reset(await self._store.open_load())
        self._ready = True

    async def ready(self) -> None:
        """Read them once before the first decision."""
        if not self._ready:
            await self.refresh()
