"""The web pages on fakes: a browser-like client (cookies kept) and a signed-in one."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from shared.runtime.api import RequestLimits, api_app
from shared.settings import Settings
from tests.handlers.web.fakes import DevSignIn, FakeApproval, FakeCommands, FakeIntake
from tests.support.oidc import auth
from web.adapters.inbound.pages import page_routes
from web.adapters.inbound.session import Sessions
from web.adapters.inbound.signin import signin_routes
from web.core import Csrf
from web.service import StaffDesk

BASE = "http://web.test"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Web:
    """The client and the fakes behind it."""

    client: httpx.AsyncClient
    intake: FakeIntake
    approval: FakeApproval
    commands: FakeCommands

    async def sign_in(self, person: str = "mary", next_: str = "/my/cases") -> httpx.Response:
        """Fill the sign-in form as a browser would."""
        form = await self.client.get("/signin", params={"next": next_})
        token = CSRF_FIELD.search(form.text).group(1)
        return await self.client.post("/signin", data={"person": person, "csrf_token": token, "next": next_})

    async def csrf_of(self, path: str) -> str:
        """The CSRF token on a page's forms."""
        return CSRF_FIELD.search((await self.client.get(path)).text).group(1)


@pytest.fixture
async def web():
    intake, approval, commands = FakeIntake(), FakeApproval(), FakeCommands()
    sessions, csrf = Sessions(auth()), Csrf("handler-test-secret")
    desk = StaffDesk(intake, approval, commands, "http://approval.test")
    routers = [signin_routes(sessions, DevSignIn(), csrf, secure=False), page_routes(desk, sessions, csrf)]
    settings = Settings()
    app = RequestLimits(api_app("web", routers), settings.http_max_body_bytes, settings.limits.json_depth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield Web(client, intake, approval, commands)
