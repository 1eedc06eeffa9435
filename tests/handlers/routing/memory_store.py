"""An in-memory RoutingStore for handler tests (same contract as the MongoDB adapter)."""

from __future__ import annotations

from typing import Any

from routing.core.view import CaseView
from shared.runtime.outbox import OutboxEntry


class MemoryRoutingStore:
    """Dicts instead of collections; compare-and-set semantics kept."""

    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.rules_doc: dict[str, Any] | None = None
        self.commands: dict[str, dict[str, Any]] = {}

    async def get_case(self, case_id):
        doc = self.cases.get(case_id)
        return None if doc is None else (doc["view"].model_copy(deep=True), doc["seq"], list(doc["outbox"]))

    async def save_case(self, view, expected_seq, outbox, decision):
        doc = self.cases.get(view.case_id)
        if (doc is None) != (expected_seq is None) or (doc and doc["seq"] != expected_seq):
            return False
        old = doc or {"seq": 0, "outbox": [], "decisions": []}
        self.cases[view.case_id] = {"view": view, "seq": old["seq"] + 1, "outbox": old["outbox"] + outbox,
                                    "decisions": old["decisions"] + ([decision] if decision else [])}
        return True

    async def mark_case_published(self, case_id, entry_ids):
        doc = self.cases[case_id]
        doc["outbox"] = [e for e in doc["outbox"] if e.id not in entry_ids]

    def _views(self) -> list[CaseView]:
        return sorted((d["view"] for d in self.cases.values()), key=lambda v: (str(v.opened_at), v.case_id))

    async def open_load(self, people):
        out: dict[str, int] = {}
        for v in self._views():
            if v.is_open and v.assignee in people:
                out[v.assignee] = out.get(v.assignee, 0) + 1
        return out

    async def open_cases(self, assignee, case_types=None):
        return [v for v in self._views() if v.is_open and v.assignee == assignee
                and (not case_types or v.case_type in case_types)]

    async def available(self, queues):
        return [v for v in self._views() if v.is_open and v.queue in queues and v.assignee is None]

    async def in_queue(self, queue):
        return [v for v in self._views() if v.is_open and v.queue == queue]

    async def decisions(self, case_id):
        doc = self.cases.get(case_id)
        return None if doc is None else doc["decisions"]

    async def account_owner(self, account_id):
        return (self.accounts.get(account_id) or {}).get("owner")

    async def upsert_account(self, account_id, entry):
        self.accounts[account_id] = entry

    async def rules(self):
        return self.rules_doc

    async def save_rules(self, raw, expected_version, command_id=None):
        current = self.rules_doc["version"] if self.rules_doc else None
        if current != expected_version:
            return False
        self.rules_doc = {"version": raw["version"], "raw": raw, "command_id": command_id}
        return True

    async def command_outbox(self, command_id):
        doc = self.commands.get(command_id)
        return None if doc is None else list(doc["outbox"])

    async def record_command(self, command_id, outcome, outbox: list[OutboxEntry]):
        if command_id in self.commands:
            return False
        self.commands[command_id] = {"outcome": outcome, "outbox": list(outbox)}
        return True

    async def mark_command_published(self, command_id, entry_ids):
        doc = self.commands[command_id]
        doc["outbox"] = [e for e in doc["outbox"] if e.id not in entry_ids]
