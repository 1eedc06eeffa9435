"""Sign-in and sign-out. Locally the development issuer signs a person in; see docs/web.md for production."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from web.adapters.inbound.render import page, redirect
from web.adapters.inbound.session import SIGNIN_NONCE, SIGNIN_NONCE_SECONDS, Sessions
from web.core import Csrf, safe_next
from web.ports import SignIn, SignInRefused

PERSON_CHARS = 64


def signin_routes(sessions: Sessions, sign_in: SignIn, csrf: Csrf, secure: bool) -> APIRouter:
    """GET/POST /signin and POST /signout."""
    router = APIRouter(tags=["sign-in"])

    def form(request: Request, target: str, status: int = 200, message: str | None = None,
             person: str = "") -> Response:
        nonce = request.cookies.get(SIGNIN_NONCE) or csrf.nonce()
        response = page("signin.html.j2", status, title="Sign in", next=target, person=person, message=message,
                        available=sign_in.available, signin_csrf=csrf.issue(nonce))
        # Bound to this browser: the sign-in form's token is only good with this cookie (login CSRF).
        response.set_cookie(SIGNIN_NONCE, nonce, max_age=SIGNIN_NONCE_SECONDS, path="/signin", secure=secure,
                            httponly=True, samesite="strict")
        return response

    @router.get("/signin", summary="The sign-in form")
    async def signin_form(request: Request, next: str = "") -> Response:  # noqa: A002  (the query's name)
        target = safe_next(next)
        if await sessions.of(request):
            return redirect(target)
        return form(request, target)

    @router.post("/signin", summary="Sign a person in (locally: through the development issuer)")
    async def signin(request: Request, person: str = Form(""), csrf_token: str = Form(""),
                     next: str = Form("")) -> Response:  # noqa: A002
        target, person = safe_next(next), person.strip()[:PERSON_CHARS]
        if not csrf.check(request.cookies.get(SIGNIN_NONCE), csrf_token):
            return form(request, target, 403, "This form was not sent from the sign-in page: please sign in again.")
        if not person:
            return form(request, target, 400, "Give your person id.")
        try:
            token = await sign_in.token_for(person)
        except SignInRefused as exc:
            return form(request, target, 403 if sign_in.available else 503, str(exc), person)
        session = await sessions.verify(token)
        if session is None:
            return form(request, target, 403, "Only staff of the people directory may use these pages.", person)
        response = redirect(target)
        sessions.open(response, session, secure)
        return response

    @router.post("/signout", summary="Forget the session in this browser")
    async def signout(request: Request, csrf_token: str = Form("")) -> Response:
        session = await sessions.of(request)
        if session is not None and not csrf.check(session.token, csrf_token):
            return page("problem.html.j2", 403, title="Not signed out",
                        message="This form was not sent from one of these pages.")
        response = redirect("/signin")
        sessions.close(response, secure)
        return response

    return router
