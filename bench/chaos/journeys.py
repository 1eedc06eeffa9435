"""Journeys of every case type, each a short script of commands (some of them meant to be refused)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable

from bench.chaos.driver import Driver
from bench.chaos.invariants import REJECTED
from tests.support.journey import ACTORS as PEOPLE
from tests.support.journey import opening

# account.upsert needs an account role from the directory (a sales rep's is refused), so an admin keeps the accounts.
ACTORS = {**PEOPLE, "admin": {"id": "ada", "roles": ["admin"]}}


class GaveUp(Exception):
    """A step had no outcome within the timeout: the journey stops (the invariants still check the command)."""


class Case:
    """One case's commands, each sent and its outcome awaited, so the next is decided on what really happened."""

    def __init__(self, driver: Driver, case_type: str, rng: random.Random) -> None:
        self.d, self.rng, self.case_type = driver, rng, case_type
        self.id = f"CHAOS-{case_type.upper()}-{uuid.uuid4().hex[:10]}"

    async def ok(self, type_: str, actor: str, **data: object) -> bool:
        """Send a command meant to be accepted; True when it was."""
        doc = await self.d.outcome(await self.d.send("case_commands", type_, self.id,
                                                     {"actor": ACTORS[actor], **data}))
        if doc is None:
            raise GaveUp(type_)
        return doc.get("type") != REJECTED

    async def no(self, type_: str, actor: str, code: str, **data: object) -> None:
        """Send a command meant to be refused with `code`; counts whether it was."""
        doc = await self.d.outcome(await self.d.send("case_commands", type_, self.id,
                                                     {"actor": ACTORS[actor], **data}))
        if doc is None:
            raise GaveUp(type_)
        if doc.get("type") == REJECTED and doc["data"].get("code") == code:
            self.d.tally.outcomes["refused as expected"] += 1

    async def message(self, text: str) -> None:
        """A customer message through the portal's HTTP (or, when the portal does not show the case yet, Kafka)."""
        command_id = await self.d.post_message(self.id, "cust.ola", text)
        if command_id is None:
            await self.ok("case.add_customer_message", "customer", message=text)
        elif await self.d.outcome(command_id) is None:
            raise GaveUp("customer message")

    async def approve(self, step: str, decision: str = "approve") -> None:
        """Answer the step's approval requests (by command or through the link) until the step is settled."""
        for _ in range(4):  # mode `all` asks several people
            request = await self.d.tap.approval_request(self.id, step, self.d.outcome_timeout)
            if request is None:
                raise GaveUp(f"approval.requested {step}")
            data = request["data"]
            if self.rng.random() < 0.3:
                command_id = await self.d.decide_by_link(data["link"], decision, self.id)
            else:
                command_id = await self.d.send("approval_commands", "approval.decide", self.id, {
                    "actor": {"id": data["approver"], "roles": []}, "case_id": self.id, "step": step,
                    "decision": decision, "comment": "chaos"})
            doc = await self.d.outcome(command_id)
            if doc is None or doc.get("type") == REJECTED or doc["data"].get("step_outcome") != "pending":
                return


async def customer_request(c: Case) -> None:
    """Opened by customer service, approved by the approval service's approver, resolved and closed."""
    await c.ok("case.open", "carl", **opening("customer_request", {"request_type": "technical_information"}))
    await c.no("case.resolve", "carl", "transition_not_allowed", resolution="too early")
    if await c.ok("case.submit", "carl"):
        await c.approve("approval", c.rng.choice(["approve", "approve", "reject"]))
    await c.ok("case.resolve", "carl", resolution="Datasheet sent", resolution_date="2026-11-26")
    await c.ok("case.close", "carl", reason="completed")
    await c.no("case.update", "carl", "closed", subject="again")


async def csr(c: Case) -> None:
    """Registration, pre-approval, assessment, final approval, implementation, inactive."""
    await c.ok("case.open", "mary", **opening("csr", {"requirement_category": "labelling", "main_shipping_site": "Bergen"}))
    await c.no("case.submit", "mary", "guard_failed")
    await c.ok("case.add_product", "mary", product_id="P-1", name="Luminaire 1")
    if await c.ok("case.submit", "mary"):
        await c.approve("pre_approval")
    await c.no("case.record_assessment", "mary", "forbidden", feasibility_conclusion="ok")
    await c.ok("case.record_assessment", "frank", feasibility_conclusion="Feasible", feasible=True)
    if await c.ok("case.submit", "frank"):
        await c.approve("final_approval")
    await c.ok("case.set_status", "frank", status="implemented")
    await c.ok("case.record_satisfaction", "mary", score=4, feedback="fine")
    await c.ok("case.close", "mary", reason="no_longer_valid")


async def claim(c: Case) -> None:
    """A customer's claim with messages, a cause, approval and a replacement order."""
    await c.ok("case.open", "customer", **opening("claim", {"order_reference": "SO-1", "quantity_affected": 4}))
    await c.message("Two arrived broken")
    await c.ok("case.set_status", "seller", status="in_progress")
    await c.no("case.update", "seller", "invalid", cause="weather")
    await c.ok("case.update", "seller", cause="logistics")
    if await c.ok("case.submit", "seller"):
        await c.approve("approval")
    await c.ok("case.set_status", "seller", status="replacement_order_issued")
    await c.ok("case.close", "seller", reason="completed")


async def change_request(c: Case) -> None:
    """Manual statuses and the customer's answer."""
    await c.ok("case.open", "customer", **opening("change_request", {"order_reference": "SO-4411",
                                                                     "requested_change": "A week later"}))
    await c.ok("case.set_status", "seller", status="in_progress")
    await c.ok("case.set_status", "seller", status="waiting_for_feedback")
    await c.message("A week later is fine")
    await c.no("case.set_status", "customer", "forbidden", status="in_progress")
    await c.ok("case.close", "seller", reason="completed")


async def change_order(c: Case) -> None:
    """A change order the customer opened in the portal (the portal principal speaks for customers)."""
    await c.ok("case.open", "customer", **opening("change_order", {"order_reference": "SO-4411",
                                                                 "requested_change": "More"}))
    await c.ok("case.set_status", "seller", status="awaiting_internal")
    await c.message("Any news?")
    await c.no("case.set_status", "seller", "invalid", status="approved")
    await c.ok("case.close", "seller", reason="rejected", comment="Too late")


async def quotation(c: Case) -> None:
    """Draft, sent, revised."""
    await c.ok("case.open", "customer", **opening("quotation", {"requested_quantity": 120}))  # a draft quote
    await c.ok("case.request_quote", "customer", note="120 pcs")
    await c.ok("case.set_status", "seller", status="in_progress")
    await c.ok("case.send_quote", "seller", quote_reference="Q-1", amount=1500.0, currency="EUR")
    await c.ok("case.close", "seller", reason="completed")


async def order(c: Case) -> None:
    """Placed by the ERP, confirmed by the customer, completed by the warehouse."""
    await c.ok("case.open", "customer", **opening("order", {"requested_delivery_date": "2026-12-15"}))
    await c.no("case.confirm_order", "customer", "transition_not_allowed")
    await c.ok("case.place_order", "erp", order_reference="SO-77")
    await c.ok("case.confirm_order", "customer")
    await c.ok("case.set_status", "warehouse", status="completed")
    await c.ok("case.close", "seller", reason="completed")


async def helpdesk(c: Case) -> None:
    """A web form ticket taken, handed over, queued and closed."""
    await c.ok("case.open", "webform", **opening("helpdesk", {"channel": "web_form"}, queue="support-l1"))
    await c.no("case.assign", "customer", "forbidden")
    await c.ok("case.assign", "agent")
    await c.ok("case.assign", "agent", assignee="agent.ann", comment="on holiday")
    await c.ok("case.close", "agent2")


async def sales(c: Case) -> None:
    """An opportunity with revenue and chance of success."""
    await c.ok("case.open", "mary", **opening("sales", {"probability": 20}, assignee="mary"))
    await c.no("case.open", "mary", "already_exists", **opening("sales", {}))
    await c.no("case.update", "mary", "invalid", fields={"probability": 101})
    await c.ok("case.update", "mary", fields={"probability": 80, "expected_revenue": 30000.5})
    await c.ok("case.assign", "mary", assignee="rep.sam")
    await c.ok("case.close", "rep2", reason="cancelled")


async def purchase(c: Case) -> None:
    """Opened by an employee, opened by a buyer, transferred and closed."""
    await c.ok("case.open", "employee", **opening("purchase", {"expected_cost": 1200, "supplier_id": "SUP-9"}))
    await c.no("case.set_status", "employee", "forbidden", status="open")
    await c.ok("case.set_status", "buyer2", status="open")
    await c.ok("case.assign", "buyer", queue="purchasing-eu")
    await c.ok("case.close", "buyer")


async def account(c: Case) -> None:
    """An account-directory entry upserted twice (subject = account id)."""
    c.id = f"ACC-CHAOS-{uuid.uuid4().hex[:8]}"
    for name in ("Chaos Ltd", "Chaos Ltd (renamed)"):
        await c.ok("account.upsert", "admin", account_id=c.id, name=name, country="NO")


JOURNEYS: dict[str, Callable[[Case], Awaitable[None]]] = {f.__name__: f for f in (
    customer_request, csr, claim, change_request, change_order, quotation, order, helpdesk, sales, purchase, account)}
