"""HTTP for e-mail links: GET /approvals/<token> shows the request, POST .../decide sends approval.decide."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs

from faststream.asgi import AsgiResponse, get, post
from faststream.kafka import KafkaBroker

from approval.core import Linker
from approval.ports.store import ApprovalStore
from shared.contract.envelope import CloudEvent, now_utc
from shared.settings import Topics

PREFIX = "/approvals/"
VIEW, DECIDE = "/approvals/view", "/approvals/decide"
TOKEN_KEY = "approval_token"


class TokenPaths:
    """ASGI wrapper: FastStream routes match exact paths, so /approvals/<token>[/decide] is rewritten here."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(PREFIX) and path not in (VIEW, DECIDE):
            token, _, action = path[len(PREFIX):].partition("/")
            target = DECIDE if action == "decide" else VIEW if not action else path
            scope = {**scope, "path": target, TOKEN_KEY: token}
        await self.app(scope, receive, send)


def _json(body: Any, status: int = 200) -> AsgiResponse:
    return AsgiResponse(json.dumps(body, default=str).encode(), status, headers={"content-type": "application/json"})


def approval_routes(store: ApprovalStore, linker: Linker, broker: KafkaBroker, topics: Topics) -> list[tuple[str, Any]]:
    """The two routes, for `create_app(routes=...)`."""

    @get(description="The approval request behind an e-mail link: case, step, approver and status (JSON).")
    async def view(scope: Any) -> AsgiResponse:
        claim = linker.verify(scope.get(TOKEN_KEY, ""))
        if claim is None:
            return _json({"error": "unknown or invalid approval link"}, 404)
        stored = await store.get(claim.case_id)
        state = stored.state if stored else None
        steps = ([state.current] if state and state.current else []) + (list(state.history) if state else [])
        step = next((s for s in steps if s.approval_id == claim.approval_id), None)
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
            "decide": {"method": "POST", "url": f"{linker.link(scope.get(TOKEN_KEY, ''))}/decide?decision=approve|reject&comment=..."},
        })

    @post(description="Decide through the link: ?decision=approve|reject&comment=...; answers 202 with the command id.")
    async def decide(scope: Any) -> AsgiResponse:
        token = scope.get(TOKEN_KEY, "")
        claim = linker.verify(token)
        if claim is None:
            return _json({"error": "unknown or invalid approval link"}, 404)
        query = parse_qs(scope.get("query_string", b"").decode())
        decision = (query.get("decision") or [""])[0]
        if decision not in ("approve", "reject"):
            return _json({"error": "decision must be approve or reject"}, 400)
        stored = await store.get(claim.case_id)
        step = stored.state.current if stored and stored.state.current else None
        if step is None or step.approval_id != claim.approval_id:
            past = [s for s in (stored.state.history if stored else []) if s.approval_id == claim.approval_id]
            if not past:
                return _json({"error": "approval request not found"}, 404)
            step = past[0]
        command = CloudEvent(
            id=str(uuid.uuid4()), source="/services/approval/http", type="approval.decide", subject=claim.case_id,
            time=now_utc(), data={"case_id": claim.case_id, "step": step.step, "decision": decision,
                                  "comment": (query.get("comment") or [None])[0], "token": token,
                                  "actor": {"id": claim.person, "roles": []}})
        # The service decides (and may refuse) like any other decision: the link only sends the command.
        await broker.publish(command.to_bytes(), topic=topics.approval_commands, key=claim.case_id.encode(),
                             headers={"content-type": "application/cloudevents+json"})
        return _json({"command_id": command.id, "status": "sent"}, 202)

    return [(VIEW, view), (DECIDE, decide)]
