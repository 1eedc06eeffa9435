"""Fixtures of the notifier's integration tests: the real SMTP sink and the notifier as a real process."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest

from shared.settings import Settings
from tests.support.env import service_env

from smtp_sink import SmtpSink  # deploy/local, on pytest's pythonpath

REFUSED = "leo@example.com"  # the sink answers 550 to this address
CASE_LINK_BASE = "https://crm.example.test"


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback, keeping mail as files; refuses REFUSED with 550."""
    root = tmp_path_factory.mktemp("smtp")
    sink = SmtpSink(root, reject=(REFUSED,), log_file=root / "smtp.log").start()
    yield sink
    sink.stop()


class _Approvals(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        ok = self.path.startswith("/approvals/")
        self.send_response(200 if ok else 404)
        self.end_headers()
        self.wfile.write(b"decide here" if ok else b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def approvals_site() -> Iterator[str]:
    """Where the approval links of the test point (stands in for the approval service's decision page)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Approvals)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def notifier(settings: Settings, smtp: SmtpSink, approvals_site: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The notifier as a real process on this module's topics, database and SMTP sink, with quick retries."""
    from tests.support.service_process import ServiceProcess

    env = service_env(settings, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), CASE_LINK_BASE=CASE_LINK_BASE,
                      APPROVAL_PUBLIC_URL=approvals_site,
                      NOTIFY_RETRY_BASE_SECONDS="0.3", NOTIFY_RETRY_MAX_SECONDS="1", NOTIFY_SWEEP_SECONDS="0.3",
                      NOTIFY_MAX_ATTEMPTS="3", SMTP_TIMEOUT_SECONDS="3", NOTIFY_LEASE_SECONDS="3")
    proc = ServiceProcess("notifier", env, tmp_path_factory.mktemp("notifier") / "notifier.log")
    proc.start()
    yield proc
    proc.stop()


async def wait_for_mail(sink: SmtpSink, predicate: Callable[[list[EmailMessage]], bool],
                        timeout: float = 60.0) -> list[EmailMessage]:
    """Poll the sink's folder until `predicate(messages)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        messages = sink.messages()
        if predicate(messages):
            return messages
        if time.monotonic() > deadline:
            seen = [(m["To"], m["Subject"]) for m in messages]
            raise AssertionError(f"timed out after {timeout}s; mail so far: {seen}")
        await asyncio.sleep(0.2)
