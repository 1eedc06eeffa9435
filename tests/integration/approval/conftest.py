"""The approval service as a real process next to intake, with short deadlines on a 24x7 calendar."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
import yaml

from approval.core import load_rule_file
from shared.settings import Settings
from tests.support.env import service_env
from tests.support.kafka_io import Producer, TopicReader, command
from tests.support.service_process import ServiceProcess

REMIND_S, ESCALATE_S = 8, 16  # seconds, for the `timers` GBU only


def timer_rules() -> dict:
    """The packaged rules plus a `timers` GBU on the 24x7 calendar with second-long deadlines."""
    raw = load_rule_file()
    raw["gbus"]["timers"] = {"calendar": "24x7"}
    raw["rules"].append({"id": "customer-request-timers", "case_type": "customer_request", "gbu": "timers", "steps": {
        "approval": {"approvers": [{"person": "peter"}], "mode": "first", "remind_after_hours": REMIND_S / 3600,
                     "escalate_after_hours": ESCALATE_S / 3600, "escalate_to": {"person": "clara"}}}})
    return raw


@pytest.fixture(scope="module")
def approval_env(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of the approval process."""
    rules = tmp_path_factory.mktemp("rules") / "rules.yaml"
    rules.write_text(yaml.safe_dump(timer_rules()))
    return service_env(settings, APPROVAL_SCHEDULER_SECONDS="0.5", APPROVAL_RULES_FILE=str(rules),
                       PUBLIC_BASE_URL="http://approvals.test", LINK_SECRET="integration")


@pytest.fixture(scope="module")
def approval(intake: object, approval_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The approval service, started after intake."""
    proc = ServiceProcess("approval", approval_env, tmp_path_factory.mktemp("approval") / "approval.log").start()
    yield proc
    proc.stop()


class Wire:
    """Send commands and read every topic the approval flow touches."""

    def __init__(self, producer: Producer, reader: TopicReader, settings: Settings) -> None:
        self.producer, self.reader, self.topics = producer, reader, settings.topics

    async def case(self, type_: str, case_id: str, actor: dict, **data: Any) -> str:
        cmd = command(type_, case_id, {"actor": actor, **data})
        await self.producer.send(self.topics.sent_by("crm").case_commands, cmd)
        return cmd["id"]

    async def approval(self, type_: str, subject: str, actor: dict, **data: Any) -> str:
        cmd = command(type_, subject, {"actor": actor, **data})
        await self.producer.send(self.topics.sent_by("crm").approval_commands, cmd)
        return cmd["id"]

    def all(self, type_: str, subject: str | None = None) -> list[dict]:
        """Envelopes of a type (deduplicated on id, topic order)."""
        seen: dict[str, dict] = {}
        for r in self.reader.records:
            doc = json.loads(r.value)
            if doc.get("type") == type_ and (subject is None or doc.get("subject") == subject):
                seen.setdefault(doc["id"], doc)
        return list(seen.values())

    async def wait(self, type_: str, subject: str, count: int = 1, where=lambda d: True, timeout: float = 60) -> list[dict]:
        """Wait until `count` envelopes of the type (matching `where`) are seen; return them."""
        def enough(_records: list) -> bool:
            return len([d for d in self.all(type_, subject) if where(d)]) >= count
        await self.reader.wait_for(enough, timeout=timeout)
        return [d for d in self.all(type_, subject) if where(d)]

    def rejection_of(self, command_id: str) -> list[dict]:
        """Rejection records naming the command."""
        return [d["data"] for d in self.all("case.command_rejected") if d["data"]["command_id"] == command_id]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wire(approval: ServiceProcess, settings: Settings) -> AsyncIterator[Wire]:
    """One producer and one reader for the module."""
    t = settings.topics
    async with Producer(settings.kafka_bootstrap_servers) as producer:
        async with TopicReader(settings.kafka_bootstrap_servers, t.case_events, t.case_rejections, t.approval_events,
                               t.sent_by("approval").case_commands) as reader:  # what approval tells intake
            yield Wire(producer, reader, settings)


def new_id(prefix: str) -> str:
    """A unique case id."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


__all__ = ["ESCALATE_S", "REMIND_S", "Wire", "new_id"]
