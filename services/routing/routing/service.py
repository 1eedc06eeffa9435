"""Routing's service layer for case events: dedupe, update the view, decide, one write, publish."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from routing.core.resolve import Decision, reroute_trigger, resolve
from routing.core.rules import ROUTING_ACTOR_ID, RuleSet, parse_rule_set
from routing.core.view import CAUSE_SET, CaseView, already_applied, apply_event
from routing.ports.store import RoutingStore
from shared.contract.envelope import CloudEvent, derived_id, new_event, now_utc
from shared.directory import Directory
from shared.lifecycles import Lifecycle
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.settings import Topics

SOURCE = "/services/routing"
ACTOR = {"id": ROUTING_ACTOR_ID, "roles": [ROUTING_ACTOR_ID]}
MAX_ATTEMPTS = 20


class RulesInForce:
    """The rule set in the store, parsed once per version (several replicas share the store)."""

    def __init__(self, store: RoutingStore, directory: Directory, lcs: dict[str, Lifecycle]) -> None:
        self._store, self._directory, self._lcs = store, directory, lcs
        self._cached: RuleSet | None = None

    async def get(self) -> RuleSet:
        """The current rule set (raises if none was ever put in force)."""
        doc = await self._store.rules()
        if doc is None:
            raise RuntimeError("no routing rule set in force")
        if self._cached is None or self._cached.version != doc["version"]:
            self._cached = parse_rule_set(doc["raw"], self._directory, self._lcs)
        return self._cached


def assign_command(case_id: str, cause: CloudEvent, tag: str, *, assignee: str | None, queue: str | None,
                   comment: str) -> CloudEvent:
    """A `case.assign` for intake, its id derived from what caused it (a replay sends the same id)."""
    data: dict[str, Any] = {"actor": ACTOR, "comment": comment}
    if assignee:
        data["assignee"] = assignee
    if queue:
        data["queue"] = queue
    return new_event("case.assign", case_id, data, source=SOURCE, id_=derived_id(cause.id, tag), cause=cause)


class RoutingService:
    """Follows case.events: keeps the case views and routes cases by the rules in force."""

    def __init__(self, store: RoutingStore, publisher: Publisher, topics: Topics, rules: RulesInForce,
                 directory: Directory, lcs: dict[str, Lifecycle], clock: Callable[[], datetime] = now_utc) -> None:
        self._store, self._publisher, self._topics = store, publisher, topics
        self._rules, self._directory, self._lcs, self._clock = rules, directory, lcs, clock

    async def handle(self, event: CloudEvent) -> str:
        """Apply one case event; returns `routed`, `applied`, `account`, `duplicate` or `ignored`."""
        if event.type == "account.upserted":
            await self._store.upsert_account(event.subject or "", {**event.data, "event_id": event.id})
            return "account"
        data = event.data
        if not event.type.startswith("case.") or "version" not in data or not event.subject:
            return "ignored"
        for _ in range(MAX_ATTEMPTS):
            stored = await self._store.get_case(event.subject)
            view, seq, pending = stored if stored else (None, None, [])
            if already_applied(view, event.id, int(data["version"])):
                await self._flush(event.subject, pending)  # finish what a crash interrupted
                return "duplicate"
            new_view, trigger = apply_event(view, event.type, data, event.id, event.time, self._lcs)
            decision = await self._decide(new_view, trigger) if trigger else None
            entries = self._entries(new_view, event, decision)
            record = self._record(decision, event, entries) if decision else None
            if await self._store.save_case(new_view, seq, entries, record):
                await self._flush(event.subject, pending + entries)
                if decision:
                    structlog.get_logger().info("routing.decided", rule=decision.rule_id, assignee=decision.assignee,
                                                queue=decision.queue, why=decision.why)
                return "routed" if entries else "applied"
        raise RuntimeError(f"case view {event.subject} kept changing while applying {event.id}")

    async def _decide(self, view: CaseView, trigger: str) -> Decision | None:
        rules = await self._rules.get()
        at = reroute_trigger(rules, view) if trigger == CAUSE_SET else trigger
        if at is None or not rules.candidates(view.case_type, at):
            return None  # most status changes concern no rule: no account or load look-ups for them
        owner = await self._store.account_owner(view.account_id) or view.account_owner
        people = sorted({p.id for p in self._directory.people})
        load = await self._store.open_load(people)
        decision = resolve(rules, view, at, self._directory, lambda ps: {p: load.get(p, 0) for p in ps}, owner)
        if decision and trigger == CAUSE_SET:
            decision.why = f"cause set while waiting in queue {view.queue}; {decision.why}"
        return decision

    def _entries(self, view: CaseView, event: CloudEvent, decision: Decision | None) -> list[OutboxEntry]:
        if decision is None or (decision.assignee is None and decision.queue is None):
            return []
        out: list[OutboxEntry] = []
        if (decision.assignee, decision.queue or view.queue) != (view.assignee, view.queue):
            queue = decision.queue if decision.queue != view.queue else None
            cmd = assign_command(view.case_id, event, "assign", assignee=decision.assignee, queue=queue,
                                 comment=decision.comment)
            out.append(OutboxEntry.of(self._topics.case_commands, cmd))
        if decision.team_role and decision.assignee and (decision.assignee, decision.team_role) not in view.team:
            data = {"actor": ACTOR, "person_id": decision.assignee, "role": decision.team_role}
            cmd = new_event("case.add_team_member", view.case_id, data, source=SOURCE,
                            id_=derived_id(event.id, "team"), cause=event)
            out.append(OutboxEntry.of(self._topics.case_commands, cmd))
        return out

    def _record(self, decision: Decision, event: CloudEvent, entries: list[OutboxEntry]) -> dict[str, Any]:
        return {**decision.model_dump(), "comment": decision.comment, "event_id": event.id, "event_type": event.type,
                "commands": [e.id for e in entries], "at": self._clock()}

    async def _flush(self, case_id: str, entries: list[OutboxEntry]) -> None:
        if entries:
            await self._publisher.publish(entries)
            await self._store.mark_case_published(case_id, [e.id for e in entries])
