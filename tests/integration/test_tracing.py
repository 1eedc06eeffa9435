"""One trace from a `case.open` to the portal record and the e-mail, through the real broker and store.

Intake, routing, portal-sync and the notifier run as real processes with `TRACING__EXPORTER=console`
and `TRACING__FILE`, each writing its spans as JSON lines to a file of its own that the test reads.
The command carries a `traceparent` as an integrating client would send it; a commercial claim is
routed to the account owner, so the same command leads to the portal record (portal-sync on
`case.opened`) and to an e-mail (routing's `case.assign`, intake's `case.assigned`, the notifier).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.principals import ingress_topic
from shared.settings import Settings
from tests.integration.notifier.conftest import CASE_LINK_BASE, smtp, wait_for_mail  # noqa: F401  (smtp: fixture)
from tests.support.env import service_env
from tests.support.journey import ACTORS, opening
from tests.support.kafka_io import Producer, TopicReader, command
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration
SERVICES = ("intake", "routing", "portal_sync", "notifier")


@pytest.fixture(scope="module")
def traced(settings: Settings, smtp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:  # noqa: F811
    """The four services as processes, tracing to `<dir>/<service>.jsonl`; yields the directory."""
    spans = tmp_path_factory.mktemp("spans")
    procs = []
    try:
        for module in SERVICES:
            env = service_env(settings, TRACING__EXPORTER="console", TRACING__FILE=str(spans / f"{module}.jsonl"),
                              SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), CASE_LINK_BASE=CASE_LINK_BASE,
                              NOTIFY_SWEEP_SECONDS="0.3")
            procs.append(ServiceProcess(module, env, spans / f"{module}.log").start())
        yield spans
    finally:
        for proc in procs:
            proc.stop()


def read_spans(folder: Path) -> list[dict]:
    """Every span the services exported so far, each with the service that made it."""
    out = []
    for module in SERVICES:
        path = folder / f"{module}.jsonl"
        for line in path.read_text().splitlines() if path.exists() else []:
            out.append({**json.loads(line), "service": module})
    return out


def ids(traceparent: str) -> tuple[str, str]:
    """(trace id, span id) of a traceparent, as the span exporter writes them."""
    _, trace, span, _ = traceparent.split("-")
    return f"0x{trace}", f"0x{span}"


async def test_one_trace_from_case_open_to_the_portal_record_and_the_mail(traced, settings, smtp):  # noqa: F811
    t = settings.topics
    case_id = f"CLAIM-{secrets.token_hex(6)}"
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    cmd = command("case.open", case_id, {"actor": ACTORS["carl"], **opening("claim", cause="commercial")},
                  traceparent=f"00-{trace_id}-{client_span}-01", tracestate="client=test")
    async with TopicReader(settings.kafka_bootstrap_servers, t.case_events, t.portal_case_status,
                           t.notification_events) as reader:
        async with Producer(settings.kafka_bootstrap_servers, "crm") as producer:
            await producer.send(ingress_topic(t.case_commands, "crm"), cmd)

        def envelopes() -> list[dict]:
            return [e for e in reader.values() if e.get("subject") == case_id]

        await reader.wait_for(lambda _: {"case.opened", "case.assigned", "notification.sent"}
                              <= {e["type"] for e in envelopes()} and bool(reader.values(t.portal_case_status)),
                              timeout=120)
    [mail] = [m for m in await wait_for_mail(smtp, lambda ms: any(case_id in str(m) for m in ms))
              if case_id in str(m)]
    assert mail["To"] == "ingrid@example.com"

    # Every envelope of the case, events, portal records and the mail's outcome alike, is in the client's trace.
    published = envelopes()
    assert {ids(e["traceparent"])[0] for e in published} == {f"0x{trace_id}"}, published
    spans = read_spans(traced)
    ours = [s for s in spans if s["context"]["trace_id"] == f"0x{trace_id}"]
    about_case = [s for s in spans if s["attributes"].get("messaging.kafka.message.key") == case_id]
    assert about_case and all(s["context"]["trace_id"] == f"0x{trace_id}" for s in about_case)

    def one(service: str, name: str) -> dict:
        found = [s for s in ours if (s["service"], s["name"]) == (service, name)]
        assert len(found) == 1, (service, name, [(s["service"], s["name"]) for s in ours])
        return found[0]

    opened = one("intake", "case.open process")
    assert opened["parent_id"] == f"0x{client_span}" and opened["kind"] == "SpanKind.CONSUMER"
    assert opened["resource"]["attributes"]["service.name"] == "intake"
    # Each hop is a child of the span whose context the envelope it handled carried.
    [event] = [e for e in published if e["type"] == "case.opened"]
    assert ids(event["traceparent"])[1] == opened["context"]["span_id"]
    projected = one("portal_sync", "case.opened process")
    assert projected["parent_id"] == opened["context"]["span_id"]
    [first_record] = [e for e in published if e["type"] == "portal.case_status_changed"][:1]
    assert ids(first_record["traceparent"])[1] == projected["context"]["span_id"]
    routed = one("routing", "case.opened process")
    assigned = one("intake", "case.assign process")
    assert assigned["parent_id"] == routed["context"]["span_id"]
    planned = one("notifier", "case.assigned process")
    assert planned["parent_id"] == assigned["context"]["span_id"]
    sent = one("notifier", "mail send")
    assert sent["parent_id"] == planned["context"]["span_id"] and sent["kind"] == "SpanKind.CLIENT"
    assert sent["attributes"]["mail.message_id"] == mail["Message-ID"]
    [outcome] = [e for e in published if e["type"] == "notification.sent"]
    assert ids(outcome["traceparent"])[1] == sent["context"]["span_id"]
