"""What the approval link page shows and how it answers: HTML (Jinja2, autoescaped) or JSON on request."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from approval.core import CaseApprovals, LinkClaim, Step
from approval.core.views import approval_history

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Everything rendered is escaped: names, comments and ids come from people and other systems.
_ENV = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined)
_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                       "frame-ancestors 'none'"}


def wants_json(request: Request) -> bool:
    """JSON when the client asks for it (`Accept: application/json`) and not for HTML; a browser gets the page."""
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


def view_of(state: CaseApprovals, step: Step, claim: LinkClaim, case_links: str) -> dict[str, Any]:
    """The case and the step as the approval state holds them, for the person of the link (seed 001's content)."""
    mine = next((s for s in step.slots if claim.person in s.eligible()), None)
    content = state.content
    return {
        "case_id": state.case_id, "case_type": state.case_type, "gbu": state.gbu, "account_id": state.account_id,
        "account_name": content.account_name, "subject": content.subject, "description": content.description,
        "products": [p.model_dump(mode="json") for p in content.products], "product_count": content.product_count,
        "feasibility_conclusion": content.feasibility_conclusion, "registered_by": content.registered_by,
        "case_link": f"{case_links}/cases/{state.case_id}",
        "approval_id": step.approval_id, "step": step.step, "status": step.status, "mode": step.mode,
        "approver": claim.person, "your_part": mine.model_dump(mode="json") if mine else None,
        "approvers": [s.model_dump(mode="json") for s in step.slots], "rule_id": step.rule_id,
        "rule_set_version": step.rule_set_version, "requested_by": step.requested_by,
        "opened_at": _iso(step.opened_at), "remind_at": _iso(step.remind_at), "escalate_at": _iso(step.escalate_at),
        "link_expires_at": _iso(datetime.fromtimestamp(claim.expires, UTC)),
        "approval_history": approval_history(state),
    }


def answer(request: Request, status: int, *, title: str, message: str | None = None, code: str | None = None,
           view: dict[str, Any] | None = None, form: dict[str, Any] | None = None,
           extra: dict[str, Any] | None = None) -> Response:
    """The page (or JSON) for any outcome: a refusal (`code`), the request with its form, or a confirmation."""
    refused = status >= 400
    if wants_json(request):
        body: dict[str, Any] = {**(view or {}), **(extra or {})}
        if refused:
            body = {"error": message, "code": code}
        elif form:
            body["decide"] = {"method": "POST", "url": form["action"], "content_type": "application/x-www-form-urlencoded",
                              "fields": {"decision": "approve|reject", "comment": "optional text",
                                         "csrf_token": form["csrf_token"]}}
        elif message:
            body["message"] = message
        return JSONResponse(body, status, headers=_HEADERS)
    html = _ENV.get_template("approval_page.html.j2").render(title=title, message=message, refused=refused,
                                                              view=view, form=form)
    return HTMLResponse(html, status, headers=_HEADERS)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
