"""Invariants of a chaos run, checked on plain records (decoded envelopes, store documents): pure functions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

REJECTED = "case.command_rejected"
EXAMPLES = 5  # violations spelled out per check; the rest are only counted


@dataclass(frozen=True)
class Sent:
    """A command the workload published (or had a service publish for it, e.g. through a link)."""

    id: str
    type: str
    case_id: str


@dataclass
class Check:
    """Result of one invariant: how many items it looked at, what broke, what was tolerated."""

    name: str
    items: int = 0
    violations: int = 0
    examples: list[str] = field(default_factory=list)
    tolerated: int = 0
    note: str = ""

    def fail(self, text: str) -> None:
        """Count one violation, keep the first few descriptions."""
        self.violations += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(text)

    @property
    def passed(self) -> bool:
        """No violation."""
        return self.violations == 0


def _distinct(envelopes: Iterable[dict]) -> list[dict]:
    """First copy of each id, in order (an identical re-send is tolerated and counted elsewhere)."""
    seen: dict[str, dict] = {}
    for e in envelopes:
        seen.setdefault(e.get("id"), e)
    return list(seen.values())


def one_outcome(commands: list[Sent], events: list[dict], rejections: list[dict]) -> Check:
    """Each command: its effect events (causationid = command id, one version) or exactly one rejection."""
    check = Check("every command has exactly one outcome", len(commands))
    effects: dict[str, list[dict]] = defaultdict(list)
    for e in events:
        effects[e.get("causationid")].append(e)
    refusals: dict[str, list[dict]] = defaultdict(list)
    for r in rejections:
        refusals[(r.get("data") or {}).get("command_id")].append(r)
    for cmd in commands:
        done, refused = _distinct(effects.get(cmd.id, [])), _distinct(refusals.get(cmd.id, []))
        versions = {(e.get("data") or {}).get("version") for e in done if e.get("type", "").startswith("case.")}
        if not done and not refused:
            check.fail(f"{cmd.type} {cmd.id} on {cmd.case_id}: no outcome (lost or stalled)")
        elif done and refused:
            check.fail(f"{cmd.type} {cmd.id}: both applied ({done[0]['type']}) and refused ({refused[0]['data']['code']})")
        elif len(refused) > 1:
            check.fail(f"{cmd.type} {cmd.id}: refused {len(refused)} times")
        elif len(versions) > 1:
            check.fail(f"{cmd.type} {cmd.id}: applied more than once (versions {sorted(versions)})")
    return check


def _canonical(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def unique_ids(records: list[tuple[str, dict]]) -> Check:
    """No (topic, id) twice with different content; identical copies are at-least-once re-sends (counted)."""
    check = Check("no event id twice with different content")
    first: dict[tuple[str, str], str] = {}
    for topic, doc in records:
        key = (topic, doc.get("id"))
        text = _canonical(doc)
        if key not in first:
            first[key] = text
        elif first[key] == text:
            check.tolerated += 1
        else:
            check.fail(f"{topic} id {key[1]}: two different contents ({doc.get('type')})")
    check.items = len(first)
    check.note = f"{check.tolerated} identical re-sends" if check.tolerated else ""
    return check


def contiguous_versions(case_events: list[dict]) -> Check:
    """Per case, in topic order: versions never go back and cover 1..n without a gap."""
    check = Check("case versions contiguous")
    per_case: dict[str, list[int]] = defaultdict(list)
    for e in _distinct(case_events):
        data = e.get("data") or {}
        if e.get("type", "").startswith("case.") and isinstance(data.get("version"), int):
            per_case[data.get("case_id") or e.get("subject")].append(data["version"])
    check.items = len(per_case)
    for case_id, versions in per_case.items():
        if any(b < a for a, b in zip(versions, versions[1:])):
            check.fail(f"{case_id}: versions out of order {versions[:12]}")
        elif sorted(set(versions)) != list(range(1, max(versions) + 1)):
            missing = sorted(set(range(1, max(versions) + 1)) - set(versions))
            check.fail(f"{case_id}: versions missing {missing[:10]}")
    return check


View = str  # a digest of the customer-visible part of a portal record (PortalCaseStatus.view_digest)


def portal_matches(latest: dict[str, View | None], rebuilt: dict[str, View]) -> Check:
    """The latest record per key on the portal topic shows what a rebuild from case.events shows."""
    check = Check("portal topic = rebuild from case.events", len(set(latest) | set(rebuilt)))
    for case_id in sorted(set(latest) | set(rebuilt)):
        got, want = latest.get(case_id), rebuilt.get(case_id)
        if got != want:
            check.fail(f"{case_id}: topic {got} != rebuild {want}")
    return check


def mails_once(expected: dict[str, str], received: dict[str, int], pending: int) -> Check:
    """Every delivery the notifier sent (Message-ID -> what) is in the mail sink exactly once; none left pending."""
    check = Check("every (event, recipient) mail sent exactly once", len(expected))
    for message_id, what in expected.items():
        copies = received.get(message_id, 0)
        if copies != 1:
            check.fail(f"{what} {message_id}: received {copies} times")
    for message_id in sorted(set(received) - set(expected)):
        check.fail(f"{message_id}: received but no delivery was recorded as sent")
    if pending:
        check.fail(f"{pending} deliveries still pending")
    return check


def outboxes_empty(collections: int, leftovers: list[str]) -> Check:
    """No document of any service's collections still has entries in its `outbox` array."""
    check = Check("no outbox left non-empty", collections)
    for where in leftovers:
        check.fail(where)
    return check


def nothing_dead_lettered(topics: int, dead: list[tuple[str, str]]) -> Check:
    """The workload sends only well-formed records, so a dead letter means a handler gave up."""
    check = Check("nothing dead-lettered", topics)
    for topic, why in dead:
        check.fail(f"{topic}: {why}")
    return check


def caught_up(lag: dict[str, int]) -> Check:
    """Every consumer group read its partitions to the end (no stalled partition)."""
    check = Check("no consumer lag (no stalled partition)", len(lag))
    for where, behind in sorted(lag.items()):
        if behind:
            check.fail(f"{where}: {behind} records behind")
    return check

