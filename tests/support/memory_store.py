"""An in-memory CaseStore for handler tests (same contract as the Mongo adapter)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from intake.core import Case
from intake.ports.store import StoredCase
from shared.runtime.outbox import OutboxEntry


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


class MemoryCaseStore:
    """Dicts instead of collections; compare-and-set on the version like the real one."""

    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.refusals = MemoryRefusals()
        self.accounts: dict[str, dict[str, Any]] = {}
        self.account_outboxes: dict[str, list[OutboxEntry]] = {}
        self.account_applied: dict[str, set[str]] = {}
        self.case_outbox = _Outbox(lambda o: self.cases[o]["outbox"], lambda o, v: self.cases[o].update(outbox=v))
        self.account_outbox = _Outbox(self.account_outboxes.__getitem__, self.account_outboxes.__setitem__)
        self.people: dict[str, dict[str, Any]] = {}
        self.person_outboxes: dict[str, list[OutboxEntry]] = {}
        self.person_applied: dict[str, set[str]] = {}
        self.person_outbox = _Outbox(self.person_outboxes.__getitem__, self.person_outboxes.__setitem__)

    async def get(self, case_id: str, command_id: str) -> StoredCase | None:
        doc = self.cases.get(case_id)
        if doc is None:
            return None
        state = Case.model_validate({**doc["case"], "history": []})  # like Mongo: history is not read back
        return StoredCase(state, doc["version"], command_id in doc["applied"], list(doc["outbox"]))

    async def read(self, case_id: str) -> Case | None:
        doc = self.cases.get(case_id)
        return Case.model_validate(doc["case"]) if doc else None

    async def create(self, case: Case, command_id: str, outbox: list[OutboxEntry]) -> bool:
        if case.id in self.cases:
            return False
        self.cases[case.id] = {"case": case.model_dump(mode="json"), "version": case.version,
                               "applied": [command_id], "outbox": list(outbox)}
        return True

    async def update(self, case: Case, expected_version: int, command_id: str, outbox: list[OutboxEntry]) -> bool:
        doc = self.cases.get(case.id)
        if doc is None or doc["version"] != expected_version:
            return False
        history = doc["case"]["history"] + case.model_dump(mode="json")["history"]  # append, as Mongo's $push
        doc.update(case={**case.model_dump(mode="json"), "history": history}, version=case.version)
        doc["applied"].append(command_id)
        doc["outbox"].extend(outbox)
        return True

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.accounts.get(account_id))

    async def upsert_account(self, account: dict[str, Any], command_id: str, outbox: list[OutboxEntry]) -> bool:
        applied = self.account_applied.setdefault(account["account_id"], set())
        if command_id in applied:
            return False
        applied.add(command_id)
        self.accounts[account["account_id"]] = copy.deepcopy(account)
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
