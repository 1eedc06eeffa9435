"""Sending commands as external systems would: Kafka (each principal its own ingress topic) and HTTP, retried."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaProducer

from bench.chaos.invariants import REJECTED, Sent
from bench.chaos.tap import Tap
from shared.contract.envelope import derived_id
from shared.principals import ingress_topic
from shared.runtime.kafka_security import client_options
from shared.settings import Topics
from tests.support.journey import principal_for
from tests.support.kafka_io import command

log = logging.getLogger("chaos")
RETRY_FOR = 300.0  # seconds a send is retried through an outage before the journey gives up
SENDERS = ("crm", "portal", "webform", "erp")  # the external principals whose credentials .local/stack.env holds
JSON = {"accept": "application/json"}


@dataclass
class Tally:
    """What happened to the workload's commands, for the progress line and the summary."""

    sent: list[Sent] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)  # accepted / refused / refused_as_expected / timed_out
    journeys: Counter = field(default_factory=Counter)  # finished / cut short
    send_retries: int = 0


class Driver:
    """A producer per sending principal and one HTTP client; each call registers a command, sends it, may await it."""

    def __init__(self, bootstrap: str, topics: Topics, tap: Tap, http: dict[str, str], rate: float,
                 outcome_timeout: float, environ: Mapping[str, str]) -> None:
        self.topics, self.tap, self.http, self.outcome_timeout = topics, tap, http, outcome_timeout
        self.tally = Tally()
        # The broker takes a command only from the principal that may speak for its actor, on its own ingress topic.
        self._producers = {p: AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                               request_timeout_ms=15000, **client_options(p, environ))
                           for p in SENDERS}
        self._client = httpx.AsyncClient(timeout=10)
        self._interval, self._next = (1.0 / rate if rate else 0.0), time.monotonic()
        # Mints a bearer token for a person of the directory (the stack's development issuer); HTTP needs one.
        self.token_for: Callable[[str], str] | None = None

    async def start(self) -> "Driver":
        """Connect the producers."""
        await asyncio.gather(*(producer.start() for producer in self._producers.values()))
        return self

    async def stop(self) -> None:
        """Close the producers and the HTTP client."""
        await asyncio.gather(*(producer.stop() for producer in self._producers.values()), self._client.aclose())

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

    async def send(self, kind: str, type_: str, subject: str, data: dict) -> str:
        """Publish one command (`kind`: its command topic, e.g. `case_commands`) as the principal of its actor.

        Keyed by its subject; the same id on every retry (the service dedupes).
        """
        await self._pace()
        doc = command(type_, subject, data)
        principal = principal_for(data["actor"]["id"])
        topic = ingress_topic(getattr(self.topics, kind), principal)
        self.tap.expect(doc["id"])
        self.tally.sent.append(Sent(doc["id"], type_, subject))
        value = json.dumps(doc).encode()
        producer = self._producers[principal]
        await self._retry(type_, lambda: producer.send_and_wait(topic, value, key=subject.encode()))
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
        """An approver opens the e-mail link and sends its form; approval answers with the command id it published."""
        await self._pace()
        path = f"/approvals/{link.rsplit('/approvals/', 1)[-1]}"

        async def open_and_post() -> tuple[str, str | None]:
            # A browser of its own: the page sets the CSRF cookie that the form's POST must bring back.
            async with httpx.AsyncClient(base_url=self.http["approval"], timeout=10, headers=JSON) as browser:
                resp = await browser.get(path)
                form = resp.json().get("decide") if resp.status_code == 200 else None
                if resp.status_code == 200 and form is None:  # the step closed before the click: no form
                    return "closed", None
                if form is not None:
                    resp = await browser.post(f"{path}/decide", data={
                        "decision": decision, "comment": "chaos link", "csrf_token": form["fields"]["csrf_token"]})
            if resp.status_code >= 500:  # 503: the broker did not take it and the link was given back
                raise RuntimeError(f"approval answered {resp.status_code}")
            return f"http {resp.status_code}", resp.json().get("command_id") if resp.status_code == 202 else None
        status, command_id = await self._retry("approval link", open_and_post)
        if command_id is None:
            self.tally.outcomes[f"approval link {status}"] += 1
            return None
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
