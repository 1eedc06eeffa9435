"""`GET /cases`: its filters, its order (newest change first) and the opaque cursor that pages through it.

Pure: the Mongo reader turns a `CaseFilter` and a `Cursor` into a query; the same rules (`matches`,
`before`) say what that query must return, for readers kept in memory and for tests.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.lifecycles import Lifecycle

UNASSIGNED = "none"  # `assignee=none`: cases nobody is responsible for
ITEM_KEYS = ("id", "case_type", "gbu", "account_id", "subject", "status", "assignee", "queue", "created_at",
             "updated_at", "due_date", "fields")
_CURSOR_VERSION = 1


class BadCursor(ValueError):
    """A `cursor` this API did not give out (or from an incompatible version of it)."""


def closed_statuses(lifecycles: Mapping[str, Lifecycle]) -> dict[str, frozenset[str]]:
    """Per case type, the codes of its closed statuses (what `open=false` keeps)."""
    return {t: frozenset(s.code for s in lc.statuses if s.is_closed) for t, lc in lifecycles.items()}


@dataclass(frozen=True)
class CaseFilter:
    """The list's filters; None = any. `is_open` needs each case type's closed statuses."""

    account: str | None = None
    case_type: str | None = None
    status: str | None = None
    assignee: str | None = None
    gbu: str | None = None
    queue: str | None = None
    is_open: bool | None = None

    def equalities(self) -> dict[str, Any]:
        """Case attribute -> required value, for the plain filters (`assignee=none` is None)."""
        plain = {"account_id": self.account, "case_type": self.case_type, "status": self.status, "gbu": self.gbu,
                 "queue": self.queue, "assignee": self.assignee}
        out = {k: v for k, v in plain.items() if v is not None}
        if self.assignee == UNASSIGNED:
            out["assignee"] = None
        return out

    def matches(self, case: Mapping[str, Any], closed: Mapping[str, frozenset[str]]) -> bool:
        """True if the case passes every filter."""
        if any(case.get(k) != v for k, v in self.equalities().items()):
            return False
        if self.is_open is None:
            return True
        return (case.get("status") not in closed.get(case.get("case_type", ""), frozenset())) == self.is_open


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after the case (updated_at, id) in newest-first order."""

    updated_at: str
    case_id: str

    def encode(self) -> str:
        """The opaque text handed out as `next_cursor`."""
        raw = json.dumps([_CURSOR_VERSION, self.updated_at, self.case_id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """The cursor `text` stands for; BadCursor when it is not one this API gave out."""
        try:
            raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError) as exc:
            raise BadCursor("cursor: not a cursor this API gave out (pass next_cursor back unchanged)") from exc
        if (not isinstance(raw, list) or len(raw) != 3 or raw[0] != _CURSOR_VERSION
                or not all(isinstance(p, str) for p in raw[1:])):
            raise BadCursor("cursor: not a cursor this API gave out (pass next_cursor back unchanged)")
        return cls(raw[1], raw[2])

    @classmethod
    def after(cls, case: Mapping[str, Any]) -> "Cursor":
        """The cursor of the page that follows `case`."""
        return cls(str(case.get("updated_at")), str(case["id"]))


def order_key(case: Mapping[str, Any]) -> tuple[str, str]:
    """The list's sort key, descending: updated_at as stored (ISO text), then id."""
    return str(case.get("updated_at")), str(case["id"])


def before(case: Mapping[str, Any], cursor: Cursor | None) -> bool:
    """True if the case comes after the cursor's case in the list (older, or as old with a smaller id)."""
    return cursor is None or order_key(case) < (cursor.updated_at, cursor.case_id)


def item(case: Mapping[str, Any]) -> dict[str, Any]:
    """A case as a list item (`due_date`: the case's own, else a `fields.due_date`)."""
    out = {k: case.get(k) for k in ITEM_KEYS}
    out["fields"] = out["fields"] or {}
    if out["due_date"] is None:
        out["due_date"] = out["fields"].get("due_date")
    return out


def page(cases: list[Mapping[str, Any]], limit: int) -> dict[str, Any]:
    """The answer from up to `limit + 1` cases in list order: `items`, and `next_cursor` when there are more."""
    shown = cases[:limit]
    more = len(cases) > limit
    return {"items": [item(c) for c in shown], "next_cursor": Cursor.after(shown[-1]).encode() if more else None}
