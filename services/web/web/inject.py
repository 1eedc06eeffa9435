"""Wiring: the read API clients, the sign-in, the command sender as principal `web`, the pages; `main()`."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker

from shared.auth import Auth
from shared.runtime.app import create_app, create_broker, run
from web.adapters.inbound.pages import page_routes
from web.adapters.inbound.session import Sessions
from web.adapters.inbound.signin import signin_routes
from web.adapters.outbound.dev_issuer import DevIssuerSignIn
from web.adapters.outbound.http_apis import HttpApproval, HttpIntake
from web.adapters.outbound.kafka_commands import KafkaCaseCommands
from web.core import Csrf
from web.service import StaffDesk
from web.settings import WebSettings

PRINCIPAL = "web"  # its Kafka principal: writes case.commands.web, speaks for staff (shared/data/principals.yaml)


def build(settings: WebSettings, broker: KafkaBroker | None = None) -> Any:
    """The web app: pages in front, a broker behind for the commands it sends (no consumer, no store)."""
    broker = broker or create_broker(settings)
    intake, approval = HttpIntake(settings.intake_url), HttpApproval(settings.approval_url)
    sign_in = DevIssuerSignIn(settings.web_dev_issuer_token_url)
    topic = settings.topics.sent_by(PRINCIPAL).case_commands
    broker.publisher(topic, title=topic, description="case.assign when a person takes a case on the web page.")
    desk = StaffDesk(intake, approval, KafkaCaseCommands(broker, topic), settings.approval_url)
    sessions, csrf = Sessions(Auth.from_settings(settings)), Csrf(settings.web_form_secret)
    routers = [signin_routes(sessions, sign_in, csrf, settings.secure_cookies), page_routes(desk, sessions, csrf)]
    return create_app(broker, routers=routers, settings=settings, grace_seconds=settings.shutdown_grace_seconds,
                      after_shutdown=[intake.close, approval.close, sign_in.close])


def main() -> None:
    """Entry point of `python -m web`."""
    run(build, WebSettings(service_name="web"))
