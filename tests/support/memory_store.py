"""An in-memory CaseStore for handler tests (same contract as the Mongo adapter)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from intake.core import Case
from shared.runtime.outbox import OutboxEntry
from shared.runtime.unit_of_work import Change, Loaded, Refusal


class _Outbox:
    """Bulk marking over one of the store's dicts of outboxes."""

    def __init__(self, outboxes: Callable[[str], list[OutboxEntry]], set_outbox: Callable[[str, list], None]) -> None:
        self._get, self._set = outboxes, set_outbox

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        for owner, ids in marks.items():
            self._set(owner, [e for e in self._get(owner) if e.id not in ids])


class MemoryRefusals:
    """In-memory RefusalStore (shared.runtime.refusals): refusal outboxes by command id."""

    def __init__(self) -> None:
        self.docs: dict[str, list[OutboxEntry]] = {}

    async def outbox(self, command_id: str) -> list[OutboxEntry] | None:
        found = self.docs.get(command_id)
        return None if found is None else list(found)

    async def record(self, command_id: str, entries: list[OutboxEntry]) -> bool:
        if command_id in self.docs:
            return False
        self.docs[command_id] = list(entries)
        return True

    async def mark_published(self, owner_id: str, entry_ids: list[str]) -> None:
        self.docs[owner_id] = [e for e in self.docs[owner_id] if e.id not in entry_ids]

    async def mark_published_many(self, marks: dict[str, list[str]]) -> None:
        for owner, ids in marks.items():
            await self.mark_published(owner, ids)


class MemoryRefusalBook:
    """In-memory RefusalBook (shared.runtime.unit_of_work) over MemoryRefusals, which it also offers as `outbox`."""

    def __init__(self) -> None:
        self.outbox = MemoryRefusals()

    @property
    def docs(self) -> dict[str, list[OutboxEntry]]:
        return self.outbox.docs

    async def seen(self, command_ids: Sequence[str]) -> dict[str, list[OutboxEntry]]:
        return {cid: list(self.docs[cid]) for cid in command_ids if cid in self.docs}

    async def record(self, refusals: Sequence[Refusal]) -> set[str]:
        return {r.command_id for r in refusals if not await self.outbox.record(r.command_id, r.entries)}


class MemoryCaseStore:
    """Dicts instead of collections; compare-and-set on the version like the real one."""

    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.refusals = MemoryRefusalBook()
        self.accounts_by_id: dict[str, dict[str, Any]] = {}
        self.account_outboxes: dict[str, list[OutboxEntry]] = {}
        self.account_applied: dict[str, set[str]] = {}
        self.case_outbox = _Outbox(lambda o: self.cases[o]["outbox"], lambda o, v: self.cases[o].update(outbox=v))
        self.outbox = self.case_outbox
        self.account_outbox = _Outbox(self.account_outboxes.__getitem__, self.account_outboxes.__setitem__)
        self.people: dict[str, dict[str, Any]] = {}
        self.person_outboxes: dict[str, list[OutboxEntry]] = {}
        self.person_applied: dict[str, set[str]] = {}
        self.person_outbox = _Outbox(self.person_outboxes.__getitem__, self.person_outboxes.__setitem__)

    async def load(self, keys: Sequence[str]) -> dict[str, Loaded[Case]]:
        found = {}
        for key in keys:
            doc = self.cases.get(key)
            if doc is not None:  # like Mongo: history is not read back
                state = Case.model_validate({**doc["case"], "history": []})
                found[key] = Loaded(key, state, doc["version"], frozenset(doc["applied"]), list(doc["outbox"]))
        return found

    async def save(self, changes: Sequence[Change[Case]]) -> set[str]:
        lost = set()
        for change in changes:
            doc, case = self.cases.get(change.key), change.state
            if change.loaded is None and doc is None:
                self.cases[case.id] = {"case": case.model_dump(mode="json"), "version": case.version,
                                       "applied": list(change.message_ids), "outbox": list(change.entries)}
            elif change.loaded is not None and doc is not None and doc["version"] == change.loaded.version:
                history = doc["case"]["history"] + case.model_dump(mode="json")["history"]  # append, as Mongo's $push
                doc.update(case={**case.model_dump(mode="json"), "history": history}, version=case.version)
                doc["applied"].extend(change.message_ids)
                doc["outbox"].extend(change.entries)
            else:
                lost.add(change.key)
        return lost

    async def read(self, case_id: str) -> Case | None:
        doc = self.cases.get(case_id)
        return Case.model_validate(doc["case"]) if doc else None

    async def accounts(self, account_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {a: copy.deepcopy(self.accounts_by_id[a]) for a in account_ids if a in self.accounts_by_id}

    async def upsert_account(self, account: dict[str, Any], command_id: str, outbox: list[OutboxEntry]) -> bool:
        applied = self.account_applied.setdefault(account["account_id"], set())
        if command_id in applied:
            return False
        applied.add(command_id)
        self.accounts_by_id[account["account_id"]] = copy.deepcopy(account)
        self.account_outboxes.setdefault(account["account_id"], []).extend(outbox)
        return True

    async def upsert_person(self, person: dict[str, Any], command_id: str, outbox: list[OutboxEntry]) -> bool:
        applied = self.person_applied.setdefault(person["id"], set())
        if command_id in applied:
            return False
        applied.add(command_id)
        self.people[person["id"]] = copy.deepcopy(person)
        self.person_outboxes.setdefault(person["id"], []).extend(outbox)
        return True
