"""One claim journey as external systems send it, each command timed from its send to its outcome."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from bench.chaos.driver import Driver
from bench.chaos.invariants import REJECTED
from bench.e2e.portal_tap import PortalTap
from tests.support.journey import ACTORS, opening

# (label, command type, actor, data): the customer opens (through the portal principal) with a cause, the seller
# works it, the customer answers (back to In Progress), the seller closes it.
STEPS = (
    ("case.open", "case.open", "customer",
     opening("claim", {"order_reference": "SO-1", "quantity_affected": 4}, cause="logistics")),
    ("set_status in_progress", "case.set_status", "seller", {"status": "in_progress"}),
    ("set_status waiting_for_feedback", "case.set_status", "seller", {"status": "waiting_for_feedback"}),
    ("add_customer_message", "case.add_customer_message", "customer", {"message": "Photos attached"}),
    ("case.close", "case.close", "seller", {"reason": "completed"}),
)


@dataclass
class Step:
    """One command: when it was sent, when its first outcome was read, and the case version it produced."""

    label: str
    case_id: str
    sent: float
    outcome_at: float | None = None
    version: int | None = None


@dataclass
class Claim:
    """One journey's commands; `closed_at`: when its `Closed` portal record was read."""

    case_id: str
    steps: list[Step] = field(default_factory=list)
    closed_at: float | None = None
    error: str = ""

    @property
    def started(self) -> float:
        """When its first command was sent."""
        return self.steps[0].sent


async def claim_journey(driver: Driver, tap: PortalTap, timeout: float) -> Claim:
    """Send the steps one after another (each waits for the previous one's outcome), then await `Closed`."""
    claim = Claim(f"BENCH-CLAIM-{uuid.uuid4().hex[:12]}")
    for label, type_, actor, data in STEPS:
        step = Step(label, claim.case_id, time.monotonic())
        claim.steps.append(step)
        doc = await driver.outcome(await driver.send("case_commands", type_, claim.case_id,
                                                     {"actor": ACTORS[actor], **data}))
        step.outcome_at = time.monotonic()
        if doc is None or doc.get("type") == REJECTED:
            claim.error = f"{label}: " + ("no outcome" if doc is None else doc["data"].get("code", "refused"))
            return claim
        step.version = int(doc["data"]["version"])
    try:
        claim.closed_at = await asyncio.wait_for(asyncio.shield(tap.closed(claim.case_id)), timeout)
    except asyncio.TimeoutError:
        claim.error = "no Closed portal record"
    return claim
