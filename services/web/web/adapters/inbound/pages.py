"""The staff pages: a case, my cases, available cases (take one), my approvals, the pipeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from web.adapters.inbound.render import page, problem, redirect
from web.adapters.inbound.session import Session, Sessions, signin_url
from web.core import Csrf
from web.ports import ApiError
from web.service import StaffDesk

Render = Callable[[Session], Awaitable[Response]]


def page_routes(desk: StaffDesk, sessions: Sessions, csrf: Csrf) -> APIRouter:
    """Every page needs a staff session; an API's refusal becomes a page that says what went wrong."""
    router = APIRouter(tags=["pages"])
    log = structlog.get_logger().bind(component="web.pages")

    def context(session: Session, **more: Any) -> dict[str, Any]:
        return {"user": session.person.id, "csrf": csrf.issue(session.token), **more}

    async def signed_in(request: Request, render: Render) -> Response:
        session = await sessions.of(request)
        if session is None:
            return redirect(signin_url(request))
        try:
            return await render(session)
        except ApiError as exc:
            if exc.status == 401:  # the token ran out between our check and theirs
                return redirect(signin_url(request))
            log.info("web.api_refused", status=exc.status, error=exc.message, path=request.url.path)
            if exc.status in (403, 404):
                titles = {403: "Not allowed", 404: "Not found"}
                return problem(exc.status, titles[exc.status], exc.message, **context(session))
            return problem(502, "Not available", "The case service did not answer; try again shortly.",
                           **context(session))

    @router.get("/", include_in_schema=False)
    async def home() -> Response:
        return redirect("/my/cases")

    @router.get("/cases/available", summary="Open cases nobody is assigned to, with a Take button")
    async def available(request: Request, cursor: str = "") -> Response:
        async def render(s: Session) -> Response:
            listing = await desk.available(s.token, cursor)
            return page("cases.html.j2", **context(s, title="Available cases", listing=listing, take=True,
                                                  path="/cases/available"))
        return await signed_in(request, render)

    @router.get("/cases/{case_id}", summary="One case: sections, related lists, approvals, history, advice")
    async def case(request: Request, case_id: str, sent: str = "") -> Response:
        async def render(s: Session) -> Response:
            doc = await desk.case(case_id, s.token)
            message = "Your request to take this case was sent; reload to see it assigned." if sent else None
            return page("case.html.j2", **context(s, title=f"Case {case_id}", case_id=case_id, doc=doc, case=doc.get("case", {}),
                                                  message=message))
        return await signed_in(request, render)

    @router.post("/cases/{case_id}/take", summary="Take the case (sends case.assign for the signed-in person)")
    async def take(request: Request, case_id: str, csrf_token: str = Form("")) -> Response:
        async def render(s: Session) -> Response:
            if not csrf.check(s.token, csrf_token):
                return problem(403, "Not sent", "This form was not sent from one of these pages: open the page "
                               "again and retry.", **context(s))
            try:
                await desk.take(case_id, s.person.id)
            except Exception:  # the broker did not take it: nothing was sent, the person may retry
                log.exception("web.take_not_sent", case_id=case_id)
                return problem(503, "Not sent", "Your request could not be sent; try again shortly.", **context(s))
            return redirect(f"/cases/{quote(case_id, safe='')}?sent=1")
        return await signed_in(request, render)

    @router.get("/my/cases", summary="The open cases assigned to me")
    async def my_cases(request: Request, cursor: str = "") -> Response:
        async def render(s: Session) -> Response:
            listing = await desk.my_cases(s.person.id, s.token, cursor)
            return page("cases.html.j2", **context(s, title="My cases", listing=listing, take=False, path="/my/cases"))
        return await signed_in(request, render)

    @router.get("/my/approvals", summary="The approval steps waiting for my decision")
    async def my_approvals(request: Request) -> Response:
        async def render(s: Session) -> Response:
            return page("approvals.html.j2", **context(s, title="Approvals waiting for me",
                                                      items=await desk.approvals(s.token)))
        return await signed_in(request, render)

    @router.get("/pipeline", summary="Open sales cases per GBU and stage: expected revenue and revenue × chance")
    async def sales_pipeline(request: Request) -> Response:
        async def render(s: Session) -> Response:
            return page("pipeline.html.j2", **context(s, title="Sales pipeline", pipeline=await desk.pipeline(s.token)))
        return await signed_in(request, render)

    return router
