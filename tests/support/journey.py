"""Driving case journeys through Kafka only, as an external system would.

`wire` (a module fixture: import it into the test module) holds one producer and one reader of
`case.events` + `case.rejections` for the module. `Journey` plays the commands of one case: each
`ok`/`no` sends one command keyed by the case id and waits until its effect is on the topics (events
whose causationid is the command id, or the rejection naming it), so every step is deterministic.
`finish` then checks the rules every journey must keep.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest_asyncio

from shared.directory import load_directory
from shared.principals import ingress_topic
from shared.settings import Settings, Topics
from tests.support.kafka_io import Producer, TopicReader, command

REJECTED = "case.command_rejected"

ACTORS: dict[str, dict[str, Any]] = {
    "mary": {"id": "mary", "roles": ["sales_rep"]},
    "carl": {"id": "carl", "roles": ["customer_service"]},
    "john": {"id": "john", "roles": ["supply_chain"]},
    "frank": {"id": "frank", "roles": ["tech_team"]},
    "approval": {"id": "system:approval", "roles": ["system"]},
    "customer": {"id": "cust.ola", "roles": ["customer"]},
    "portal": {"id": "system:portal-sync", "roles": ["customer"]},
    "erp": {"id": "system:erp", "roles": []},
    "seller": {"id": "seller.ingrid", "roles": ["seller"]},
    "warehouse": {"id": "wh.per", "roles": ["warehouse"]},
    "webform": {"id": "system:webform", "roles": []},
    "agent": {"id": "agent.tom", "roles": ["helpdesk_agent"]},
    "agent2": {"id": "agent.ann", "roles": ["helpdesk_agent"]},
    "rep2": {"id": "rep.sam", "roles": ["sales_rep"]},
    "buyer": {"id": "buyer.eva", "roles": ["purchaser"]},
    "buyer2": {"id": "buyer.bo", "roles": ["purchaser"]},
    "employee": {"id": "emp.kim", "roles": ["employee"]},
}


def opening(case_type: str, fields: dict | None = None, account_id: str = "ACC-1001", **extra: Any) -> dict:
    """A `case.open` payload (the journey adds the actor)."""
    return {"case_type": case_type, "gbu": "marine", "account_id": account_id, "subject": f"A {case_type}",
            "description": "Details", "fields": fields or {}, **extra}


def principal_for(actor_id: str) -> str:
    """The principal that may speak for the actor: staff through `crm`, customers through `portal`, a system as itself."""
    if actor_id.startswith("system:"):
        return actor_id.removeprefix("system:")
    person = load_directory().get(actor_id)
    return "portal" if person is not None and person.is_customer else "crm"


@dataclass
class Wire:
    """The module's producers (one per principal, made when first used) and reader."""

    reader: TopicReader
    topics: Topics
    bootstrap: str
    producers: dict[str, Producer] = field(default_factory=dict)

    async def send(self, principal: str, message: dict) -> None:
        """Publish a case command on the principal's own ingress topic, connected as that principal."""
        await self.send_to(ingress_topic(self.topics.case_commands, principal), message, principal)

    async def send_to(self, topic: str, message: dict, principal: str = "crm") -> None:
        """Publish `message` on `topic`, connected as `principal`."""
        if principal not in self.producers:
            self.producers[principal] = await Producer(self.bootstrap, principal).__aenter__()
        await self.producers[principal].send(topic, message)

    async def close(self) -> None:
        """Stop every producer."""
        for producer in self.producers.values():
            await producer.__aexit__()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wire(intake: object, settings: Settings, topics: Topics) -> AsyncIterator[Wire]:
    """Producers and one reader (events + rejections, read as `crm`) shared by the module's journeys."""
    bootstrap = settings.kafka_bootstrap_servers
    async with TopicReader(bootstrap, topics.case_events, topics.case_rejections, principal="crm",
                           group_prefix=settings.consumer_group_prefix) as reader:
        wire = Wire(reader, topics, bootstrap)
        try:
            yield wire
        finally:
            await wire.close()


def _decoded(records: list[Any]) -> list[dict]:
    out = []
    for r in records:
        try:
            out.append(json.loads(r.value))
        except ValueError:
            continue
    return out


@dataclass
class Journey:
    """The commands of one case (unique id), sent one at a time through Kafka."""

    wire: Wire
    case_type: str
    case_id: str = ""
    refused: dict[str, str] = field(default_factory=dict)  # command id -> expected code
    accepted: list[str] = field(default_factory=list)  # command ids, in order

    def __post_init__(self) -> None:
        self.case_id = self.case_id or f"{self.case_type.upper()}-{uuid.uuid4().hex[:12]}"

    # -- sending -----------------------------------------------------------------------------------
    async def _send(self, type_: str, actor: str | dict, data: dict[str, Any], expect: tuple[str, ...]) -> str:
        who = ACTORS[actor] if isinstance(actor, str) else actor
        cmd = command(type_, self.case_id, {"actor": who, **data})
        await self.wire.send(principal_for(who["id"]), cmd)

        def done(records: list[Any]) -> bool:
            caused = [d for d in _decoded(records) if d.get("causationid") == cmd["id"]]
            if any(d["type"] == REJECTED for d in caused):
                return True
            return bool(caused) and all(any(d["type"] == t for d in caused) for t in expect)

        await self.wire.reader.wait_for(done, timeout=20.0)
        return cmd["id"]

    def caused_by(self, command_id: str) -> list[dict]:
        """Envelopes (deduplicated on id, in topic order) caused by one command."""
        seen: dict[str, dict] = {}
        for d in _decoded(self.wire.reader.records):
            if d.get("causationid") == command_id:
                seen.setdefault(d["id"], d)
        return list(seen.values())

    async def ok(self, type_: str, actor: str | dict, *, expect: tuple[str, ...] = (), **data: Any) -> list[dict]:
        """Send; require acceptance; return the command's events (at least the `expect`ed types)."""
        command_id = await self._send(type_, actor, data, expect)
        caused = self.caused_by(command_id)
        refusals = [d["data"] for d in caused if d["type"] == REJECTED]
        assert not refusals, f"{type_} refused: {refusals[0]['code']}: {refusals[0]['reason']}"
        self.accepted.append(command_id)
        return caused

    async def no(self, type_: str, actor: str | dict, code: str, **data: Any) -> dict:
        """Send; require a refusal with `code`; return the rejection's data."""
        command_id = await self._send(type_, actor, data, ())
        caused = self.caused_by(command_id)
        refusals = [d["data"] for d in caused if d["type"] == REJECTED]
        assert refusals, f"{type_} unexpectedly accepted: {[d['type'] for d in caused]}"
        assert refusals[0]["code"] == code, f"expected {code}, got {refusals[0]['code']}: {refusals[0]['reason']}"
        assert refusals[0]["command_id"] == command_id and refusals[0]["case_id"] == self.case_id
        self.refused[command_id] = code
        return refusals[0]

    # -- reading -----------------------------------------------------------------------------------
    def events(self, type_: str | None = None) -> list[dict]:
        """This case's events (deduplicated on id, topic order), optionally of one type."""
        seen: dict[str, dict] = {}
        for d in _decoded(self.wire.reader.records):
            if d.get("subject") == self.case_id and d.get("type") != REJECTED:
                seen.setdefault(d["id"], d)
        return [d for d in seen.values() if type_ is None or d["type"] == type_]

    def status_changes(self) -> list[tuple[str, str, str]]:
        """(from, to, trigger) of every status change of the case so far."""
        return [(e["data"]["from"], e["data"]["to"], e["data"]["trigger"]) for e in self.events("case.status_changed")]

    @property
    def status(self) -> str:
        """Status carried by the case's latest event."""
        return self.events()[-1]["data"]["status"]

    @property
    def case(self) -> dict:
        """The case snapshot of `case.opened`."""
        return self.events("case.opened")[0]["data"]["case"]

    # -- the rules every journey keeps ---------------------------------------------------------------
    async def finish(self, quiet: float = 0.5) -> None:
        """Check versions, one rejection per refused command, no event from a refused one."""
        await self.wire.reader.quiet(quiet)
        events = self.events()
        assert bool(events) == bool(self.accepted), "events without accepted commands, or the reverse"
        assert not events or events[0]["type"] == "case.opened"
        versions = [e["data"]["version"] for e in events]
        distinct = [v for i, v in enumerate(versions) if i == 0 or v != versions[i - 1]]
        assert distinct == list(range(1, len(distinct) + 1)), f"versions not +1 steps: {versions}"
        causes = [e["causationid"] for e in events]
        assert [c for i, c in enumerate(causes) if i == 0 or c != causes[i - 1]] == self.accepted, \
            "events are not grouped per accepted command, in order"
        assert len(distinct) == len(self.accepted), "one version per accepted command"
        for e in events:  # every event of one command carries the same status and version
            first = next(x for x in events if x["causationid"] == e["causationid"])
            assert (e["data"]["status"], e["data"]["version"]) == (first["data"]["status"], first["data"]["version"])
        rejections = [d for d in _decoded(self.wire.reader.records) if d.get("type") == REJECTED]
        for command_id, code in self.refused.items():
            mine = [r for r in rejections if r["data"]["command_id"] == command_id]
            assert len(mine) == 1, f"{len(mine)} rejections for {command_id}"
            assert mine[0]["data"]["code"] == code
            assert not [e for e in events if e["causationid"] == command_id]
