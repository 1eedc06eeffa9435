"""An in-memory ApprovalStore for handler tests (same contract as the Mongo adapter)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from approval.core import Absence, CaseApprovals
from approval.ports.store import Stored, StoredRules
from shared.runtime.outbox import OutboxEntry
from tests.support.memory_store import MemoryRefusals


class MemoryApprovalStore:
    """Dicts instead of collections; compare-and-set on the version like the real one."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.refusals = MemoryRefusals()
        self.absence_docs: dict[str, dict[str, Any]] = {}
        self.rules_doc: dict[str, Any] | None = None
        self.spent: dict[str, str] = {}

    async def get(self, case_id: str) -> Stored | None:
        doc = self.docs.get(case_id)
        if doc is None:
            return None
        return Stored(CaseApprovals.model_validate(doc["state"]), doc["version"], set(doc["applied"]), list(doc["outbox"]))

    async def save(self, state, expected_version, message_id, outbox) -> bool:
        doc = self.docs.get(state.case_id)
        if (doc is None) != (expected_version is None) or (doc and doc["version"] != expected_version):
            return False
        step = state.open_step()
        self.docs[state.case_id] = {
            "state": state.model_dump(mode="json"), "version": (expected_version or 0) + 1,
            "applied": (doc["applied"] if doc else []) + [message_id], "outbox": (doc["outbox"] if doc else []) + outbox,
            "next_due": step.next_due() if step else None, "waiting_on": step.pending_people() if step else []}
        return True

    async def due(self, now: datetime, limit: int) -> list[str]:
        return [k for k, d in self.docs.items() if d["next_due"] and d["next_due"] <= now][:limit]

    async def waiting_on(self, person: str) -> list[str]:
        return [k for k, d in self.docs.items() if person in d["waiting_on"]]

    async def mark_published(self, case_id: str, entry_ids: list[str]) -> None:
        doc = self.docs[case_id]
        doc["outbox"] = [e for e in doc["outbox"] if e.id not in entry_ids]

    async def absences(self) -> dict[str, Absence]:
        return {p: d["absence"] for p, d in self.absence_docs.items()}

    async def put_absence(self, absence: Absence, command_id: str) -> bool:
        if self.absence_docs.get(absence.person, {}).get("command_id") == command_id:
            return False
        self.absence_docs[absence.person] = {"absence": absence, "command_id": command_id, "applied": False}
        return True

    async def absences_to_apply(self, now: datetime) -> list[Absence]:
        return [d["absence"] for d in self.absence_docs.values() if not d["applied"] and d["absence"].active(now)]

    async def mark_absence_applied(self, person: str, start: datetime) -> None:
        if self.absence_docs[person]["absence"].start == start:
            self.absence_docs[person]["applied"] = True

    async def rules(self) -> StoredRules | None:
        d = self.rules_doc
        return None if d is None else StoredRules(copy.deepcopy(d["raw"]), d["version"], set(d["applied"]), list(d["outbox"]))

    async def save_rules(self, raw, expected_version, command_id, outbox) -> bool:
        current = self.rules_doc["version"] if self.rules_doc else None
        if current != expected_version:
            return False
        applied = self.rules_doc["applied"] if self.rules_doc else []
        self.rules_doc = {"raw": copy.deepcopy(raw), "version": raw["version"], "applied": applied + [command_id],
                          "outbox": list(outbox)}
        return True

    async def mark_rules_published(self, entry_ids: list[str]) -> None:
        self.rules_doc["outbox"] = [e for e in self.rules_doc["outbox"] if e.id not in entry_ids]

    async def spend_link(self, token_id: str, case_id: str, command_id: str, expires: datetime) -> str:
        return self.spent.setdefault(token_id, command_id)

    async def link_used(self, token_id: str) -> str | None:
        return self.spent.get(token_id)

    async def release_link(self, token_id: str, command_id: str) -> None:
        if self.spent.get(token_id) == command_id:
            del self.spent[token_id]
