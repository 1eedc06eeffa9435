"""HTTP for e-mail links: GET /approvals/<token> shows the request, POST .../decide sends approval.decide."""

from __future__ import annotations

import uuid

from faststream.asgi import AsgiResponse
from faststream.kafka import KafkaBroker

from approval.core import Linker
from approval.ports.store import ApprovalStore
from shared.contract.envelope import CloudEvent, now_utc
from shared.runtime.http import Request, Route
from shared.runtime.http import json_response as _json
from shared.settings import Topics


def approval_routes(store: ApprovalStore, linker: Linker, broker: KafkaBroker, topics: Topics) -> list[Route]:
    """The two routes, for `create_app(http_routes=...)`."""

    async def view(request: Request) -> AsgiResponse:
        """The approval request behind an e-mail link: case, step, approver and status (JSON)."""
        claim = linker.verify(request.params["token"])
        if claim is None:
            return _json({"error": "unknown or invalid approval link"}, 404)
        stored = await store.get(claim.case_id)
        state = stored.state if stored else None
        step = state.step_of(claim.approval_id) if state else None
        if state is None or step is None:
            return _json({"error": "approval request not found"}, 404)
        mine = next((s for s in step.slots if claim.person in s.eligible()), None)
        return _json({
            "case_id": state.case_id, "case_type": state.case_type, "gbu": state.gbu, "account_id": state.account_id,
            "approval_id": step.approval_id, "step": step.step, "status": step.status, "mode": step.mode,
            "approver": claim.person, "your_part": mine.model_dump(mode="json") if mine else None,
            "approvers": [s.model_dump(mode="json") for s in step.slots], "rule_id": step.rule_id,
            "rule_set_version": step.rule_set_version, "requested_by": step.requested_by,
            "opened_at": step.opened_at, "remind_at": step.remind_at, "escalate_at": step.escalate_at,
            "decide": {"method": "POST", "url": f"{linker.link(request.params['token'])}/decide?decision=approve|reject&comment=..."},
        })

    async def decide(request: Request) -> AsgiResponse:
        """Decide through the link: ?decision=approve|reject&comment=...; answers 202 with the command id."""
        token = request.params["token"]
        claim = linker.verify(token)
        if claim is None:
            return _json({"error": "unknown or invalid approval link"}, 404)
        decision = request.query.get("decision", "")
        if decision not in ("approve", "reject"):
            return _json({"error": "decision must be approve or reject"}, 400)
        stored = await store.get(claim.case_id)
        step = stored.state.step_of(claim.approval_id) if stored else None
        if step is None:
            return _json({"error": "approval request not found"}, 404)
        command = CloudEvent(
            id=str(uuid.uuid4()), source="/services/approval/http", type="approval.decide", subject=claim.case_id,
            time=now_utc(), data={"case_id": claim.case_id, "step": step.step, "decision": decision,
                                  "comment": request.query.get("comment"), "token": token,
                                  "actor": {"id": claim.person, "roles": []}})
        # The service decides (and may refuse) like any other decision: the link only sends the command.
        await broker.publish(command.to_bytes(), topic=topics.approval_commands, key=claim.case_id.encode(),
                             headers={"content-type": "application/cloudevents+json"})
        return _json({"command_id": command.id, "status": "sent"}, 202)

    return [("GET", "/approvals/{token}", view), ("POST", "/approvals/{token}/decide", decide)]
