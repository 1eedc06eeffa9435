"""Sending commands as an external system would: Kafka (plain aiokafka) and the services' HTTP, retried across faults."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaProducer

from bench.chaos.invariants import REJECTED, Sent
from bench.chaos.tap import Tap
from shared.contract.envelope import derived_id
from shared.settings import Topics
from tests.support.kafka_io import command

log = logging.getLogger("chaos")
RETRY_FOR = 300.0  # seconds a send is retried through an outage before the journey gives up


@dataclass
class Tally:
    """What happened to the workload's commands, for the progress line and the summary."""

    sent: list[Sent] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)  # accepted / refused / refused_as_expected / timed_out
    journeys: Counter = field(default_factory=Counter)  # finished / cut short
    send_retries: int = 0


class Driver:
    """One producer and one HTTP client; each call registers the command, sends it and may wait for its outcome."""

    def __init__(self, bootstrap: str, topics: Topics, tap: Tap, http: dict[str, str], rate: float,
                 outcome_timeout: float) -> None:
        self.topics, self.tap, self.http, self.outcome_timeout = topics, tap, http, outcome_timeout
        self.tally = Tally()
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                          request_timeout_ms=15000)
        self._client = httpx.AsyncClient(timeout=10)
        self._interval, self._next = (1.0 / rate if rate else 0.0), time.monotonic()
        # Mints a bearer token for a person of the directory (the stack's development issuer); HTTP needs one.
        self.token_for: Callable[[str], str] | None = None

    async def start(self) -> "Driver":
        """Connect the producer."""
        await self._producer.start()
        return self

    async def stop(self) -> None:
        """Close the producer and the HTTP client."""
        await asyncio.gather(self._producer.stop(), self._client.aclose())

    async def _pace(self) -> None:
        """Global rate limit: every send takes the next slot."""
        slot, self._next = self._next, max(self._next, time.monotonic()) + self._interval
        await asyncio.sleep(max(0.0, slot - time.monotonic()))

    async def _retry(self, what: str, attempt) -> object:  # noqa: ANN001
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                return await attempt()
            except Exception as exc:  # a killed broker or service: try again until it is back
                if time.monotonic() > deadline:
                    raise
                self.tally.send_retries += 1
                log.debug("retrying %s: %s", what, exc)
                await asyncio.sleep(1.0)

    async def send(self, topic: str, type_: str, subject: str, data: dict) -> str:
        """Publish one command keyed by its subject; the same id on every retry (the service dedupes)."""
        await self._pace()
        doc = command(type_, subject, data)
        self.tap.expect(doc["id"])
        self.tally.sent.append(Sent(doc["id"], type_, subject))
        value = json.dumps(doc).encode()
        await self._retry(type_, lambda: self._producer.send_and_wait(topic, value, key=subject.encode()))
        return doc["id"]

    async def post_message(self, case_id: str, customer: str, text: str) -> str | None:
        """A customer message through portal-sync's HTTP; a retry with the same message_id is the same command."""
        await self._pace()
        message_id = uuid.uuid4().hex
        command_id = derived_id(f"{case_id}/{message_id}", "portal-message")
        self.tap.expect(command_id)
        body = {"message": text, "customer_id": customer, "message_id": message_id}

        async def post() -> int:
            auth = {"Authorization": f"Bearer {self.token_for(customer)}"} if self.token_for else {}
            resp = await self._client.post(f"{self.http['portal-sync']}/cases/{case_id}/messages", json=body,
                                           headers=auth)
            if resp.status_code >= 500:
                raise RuntimeError(f"portal-sync answered {resp.status_code}")
            return resp.status_code
        status = await self._retry("customer message", post)
        if status != 202:  # not on the portal (yet) or closed: no command was sent
            self.tally.outcomes[f"portal http {status}"] += 1
            return None
        self.tally.sent.append(Sent(command_id, "case.add_customer_message (portal http)", case_id))
        return command_id

    async def decide_by_link(self, link: str, decision: str, case_id: str) -> str | None:
        """An approver clicks the e-mail link; the service answers with the command id it published."""
        await self._pace()
        token = link.rsplit("/approvals/", 1)[-1]

        async def post() -> httpx.Response:
            resp = await self._client.post(f"{self.http['approval']}/approvals/{token}/decide",
                                           params={"decision": decision, "comment": "chaos link"})
            if resp.status_code >= 500:
                raise RuntimeError(f"approval answered {resp.status_code}")
            return resp
        resp = await self._retry("approval link", post)
        if resp.status_code != 202:
            self.tally.outcomes[f"approval link http {resp.status_code}"] += 1
            return None
        command_id = resp.json()["command_id"]
        self.tally.sent.append(Sent(command_id, "approval.decide (link)", case_id))
        return command_id

    async def outcome(self, command_id: str | None) -> dict | None:
        """The command's first outcome, counted; None when it did not come within the timeout."""
        if command_id is None:
            return None
        doc = await self.tap.outcome(command_id, self.outcome_timeout)
        kind = "timed_out" if doc is None else "refused" if doc.get("type") == REJECTED else "accepted"
        self.tally.outcomes[kind] += 1
        return doc
