"""An in-memory CaseStore for handler tests (same contract as the Mongo adapter)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from intake.core import Case
from intake.ports.store import StoredCase
from shared.runtime.outbox import OutboxEntry


class MemoryCaseStore:
    """Dicts instead of collections; compare-and-set on the version like the real one."""

    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.refusals: dict[str, list[OutboxEntry]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.account_outbox: dict[str, list[OutboxEntry]] = {}

    async def get(self, case_id: str) -> StoredCase | None:
        doc = self.cases.get(case_id)
        if doc is None:
            return None
        return StoredCase(Case.model_validate(doc["case"]), doc["version"], set(doc["applied"]), list(doc["outbox"]))

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
        doc.update(case=case.model_dump(mode="json"), version=case.version)
        doc["applied"].append(command_id)
        doc["outbox"].extend(outbox)
        return True

    async def mark_published(self, case_id: str, entry_ids: list[str]) -> None:
        doc = self.cases[case_id]
        doc["outbox"] = [e for e in doc["outbox"] if e.id not in entry_ids]

    async def refusal_outbox(self, command_id: str) -> list[OutboxEntry] | None:
        return self.refusals.get(command_id)

    async def record_refusal(self, command_id: str, outbox: list[OutboxEntry]) -> bool:
        if command_id in self.refusals:
            return False
        self.refusals[command_id] = list(outbox)
        return True

    async def mark_refusal_published(self, command_id: str, entry_ids: list[str]) -> None:
        self.refusals[command_id] = [e for e in self.refusals[command_id] if e.id not in entry_ids]

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.accounts.get(account_id))

    async def upsert_account(self, account: dict[str, Any], outbox: list[OutboxEntry]) -> None:
        self.accounts[account["account_id"]] = copy.deepcopy(account)
        self.account_outbox.setdefault(account["account_id"], []).extend(outbox)

    async def mark_account_published(self, account_id: str, entry_ids: list[str]) -> None:
        self.account_outbox[account_id] = [e for e in self.account_outbox[account_id] if e.id not in entry_ids]

    async def pending(self, older_than: datetime, limit: int) -> list[tuple[str, list[OutboxEntry]]]:
        return [(cid, list(d["outbox"])) for cid, d in self.cases.items() if d["outbox"]][:limit]
