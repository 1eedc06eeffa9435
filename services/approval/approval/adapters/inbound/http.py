"""HTTP for e-mail links: GET /approvals/<token> shows the request and a form, POST .../decide sends the decision.

The link token is the credential (no bearer token): signed, bound to the approver and the step, expiring and
single use. Deciding needs the form's CSRF token plus the `SameSite=Strict` cookie set with it (core/csrf.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from faststream.kafka import KafkaBroker

from approval.adapters.inbound.link_page import answer, view_of
from approval.core import Csrf, LinkClaim, Linker, LinkRefused
from approval.core.tokens import signature_of
from approval.ports.store import ApprovalStore
from shared.contract.envelope import CloudEvent, now_utc
from shared.settings import Topics

COOKIE = "approval_csrf"
USED = "This approval link was already used."


def approval_routes(store: ApprovalStore, linker: Linker, csrf: Csrf, broker: KafkaBroker, topics: Topics,
                    comment_chars: int = 4000, case_links: str = "") -> APIRouter:
    """The link routes as a FastAPI router (mounted by the service's app; no bearer token on them)."""
    router = APIRouter(tags=["approval links"])
    log = structlog.get_logger().bind(component="approval.links")

    def refused(request: Request, status: int, code: str, message: str) -> Response:
        log.info("approval.link_refused", code=code, status=status)
        return answer(request, status, title="Approval link refused", message=message, code=code)

    async def claim_of(request: Request, token: str) -> LinkClaim | Response:
        checked = linker.check(token)
        if isinstance(checked, LinkRefused):
            return refused(request, checked.status, checked.code, checked.reason)
        if await store.link_used(signature_of(token)):
            return refused(request, 409, "used", USED)
        return checked

    @router.get("/approvals/{token}", summary="The approval request behind an e-mailed link, with the decision form")
    async def view(token: str, request: Request) -> Response:
        claim = await claim_of(request, token)
        if isinstance(claim, Response):
            return claim
        state = await store.read(claim.case_id)
        step = state.step_of(claim.approval_id) if state else None
        if state is None or step is None:
            return refused(request, 404, "not_found", "This approval request does not exist (any more).")
        form = None
        if step.is_open:
            form_token, nonce = csrf.issue(token)
            form = {"action": f"{linker.link(token)}/decide", "csrf_token": form_token, "comment_chars": comment_chars,
                    "expires": datetime.fromtimestamp(claim.expires, UTC).strftime("%Y-%m-%d %H:%M UTC")}
        message = None if step.is_open else f"This approval request is closed ({step.status})."
        response = answer(request, 200, title=f"Approval requested: {step.step} of {claim.case_id}",
                          message=message, view=view_of(state, step, claim, case_links), form=form)
        if form:
            link = urlsplit(linker.link(token))
            # The cookie goes back only to this link's own path, only from our own pages (Strict), never to scripts.
            response.set_cookie(COOKIE, nonce, max_age=int(csrf.max_age.total_seconds()), path=link.path,
                                secure=link.scheme == "https", httponly=True, samesite="strict")
        return response

    @router.post("/approvals/{token}/decide", status_code=202,
                 summary="Decide through the link's page (form with its CSRF token); answers 202 once sent")
    async def decide(token: str, request: Request, decision: str = Form(""), comment: str = Form(""),
                     csrf_token: str = Form("")) -> Response:
        claim = await claim_of(request, token)
        if isinstance(claim, Response):
            return claim
        if not csrf.check(token, csrf_token, request.cookies.get(COOKIE)):
            return refused(request, 403, "csrf", "This form was not sent from the approval page, or too long ago: "
                           "open the link again and decide there.")
        if decision not in ("approve", "reject"):
            return refused(request, 400, "invalid", "The decision must be approve or reject.")
        if len(comment) > comment_chars:
            return refused(request, 400, "invalid", f"The comment is longer than {comment_chars} characters.")
        state = await store.read(claim.case_id)
        step = state.step_of(claim.approval_id) if state else None
        if step is None:
            return refused(request, 404, "not_found", "This approval request does not exist (any more).")
        if not step.is_open:
            return refused(request, 409, "closed", f"This approval request is closed ({step.status}).")
        command = CloudEvent(
            id=str(uuid.uuid4()), source="/services/approval/http", type="approval.decide", subject=claim.case_id,
            time=now_utc(), data={"case_id": claim.case_id, "step": step.step, "decision": decision,
                                  "comment": comment or None, "token": token,
                                  "actor": {"id": claim.person, "roles": []}})
        token_id, expires = signature_of(token), datetime.fromtimestamp(claim.expires, UTC)
        # Spent before sending, atomically in the store: a second click or another replica finds it used.
        if await store.spend_link(token_id, claim.case_id, command.id, expires) != command.id:
            return refused(request, 409, "used", USED)
        try:
            # The service decides (and may refuse) like any other decision: the link only sends the command.
            await broker.publish(command.to_bytes(), topic=topics.approval_commands, key=claim.case_id.encode(),
                                 headers={"content-type": "application/cloudevents+json"})
        except Exception:  # the broker did not take it: give the link back, the approver may try again
            log.exception("approval.link_decision_not_sent", case_id=claim.case_id)
            await store.release_link(token_id, command.id)
            return refused(request, 503, "unavailable", "Your decision could not be sent; please try again shortly.")
        log.info("approval.link_decision_sent", case_id=claim.case_id, command_id=command.id, decision=decision)
        return answer(request, 202, title="Decision sent", extra={"command_id": command.id, "status": "sent"},
                      message=f"Your decision ({decision}) on {step.step} of {claim.case_id} was sent. "
                              "This link cannot be used again.")

    return router
