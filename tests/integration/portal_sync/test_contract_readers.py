"""Independent readers accept what a journey publishes: the Python CloudEvents SDK, docs/schemas, a Go consumer.

One change request is driven through Kafka (intake and portal-sync as real processes) to `Closed`. Every
record it caused on `case.events` and `portal.case-status` is then read by the `cloudevents` SDK (Kafka
binding, structured mode) and validated against its exported JSON Schema, whose `$id` is its `dataschema`.
The Go example (examples/portal-consumer-go: franz-go and the CloudEvents Go SDK, which refuses a relative
`dataschema`) is built and run on the topic as the `portal` principal and must print the case's status.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import pytest_asyncio
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft202012Validator

from shared.runtime.schema_docs import DOCS as SCHEMAS
from shared.settings import Settings
from tests.integration.portal_sync.conftest import PortalTopic
from tests.support import credentials
from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
CONSUMER = ROOT / "examples" / "portal-consumer-go"
ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")  # RFC 3986 section 4.3: a scheme, then the rest


@pytest_asyncio.fixture(scope="module")
async def closed_case(wire, portal, portal_topic: PortalTopic) -> Journey:  # noqa: F811
    """A change request opened by the customer, taken in progress and closed by the seller (portal record: Closed)."""
    j = Journey(wire, "change_request")
    await j.ok("case.open", "customer", **opening("change_request", {"order_reference": "SO-77",
                                                                     "requested_change": "Ship in May"}))
    await j.ok("case.set_status", "seller", status="in_progress", expect=("case.status_changed",))
    await j.ok("case.close", "seller", reason="completed", expect=("case.closed",))
    await portal_topic.wait(j.case_id, "Closed", timeout=120)
    return j


def _read(record) -> dict:
    """One Kafka record through the CloudEvents SDK and its JSON Schema; returns the envelope as JSON."""
    message = KafkaMessage(dict(record.headers or ()), record.key, record.value)
    event = from_kafka(message, JSONFormat())
    assert event.get_specversion() == "1.0" and event.get_extension("partitionkey") == event.get_subject()
    assert ABSOLUTE_URI.match(event.get_dataschema() or ""), event.get_dataschema()
    envelope = json.loads(record.value)
    schema = json.loads((SCHEMAS / f"{event.get_type()}.json").read_text())
    assert schema["$id"] == event.get_dataschema()
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(envelope)]
    assert errors == [], (event.get_type(), errors)
    return envelope


async def test_every_record_of_the_journey_passes_the_cloudevents_sdk_and_its_schema(closed_case, wire,  # noqa: F811
                                                                                        portal_topic):
    case_id = closed_case.case_id
    events = [_read(r) for r in wire.reader.records if r.key == case_id.encode()]
    portal = [_read(r) for r in portal_topic.reader.records if r.key == case_id.encode()]
    assert {"case.opened", "case.status_changed", "case.closed"} <= {e["type"] for e in events}
    assert portal and {e["type"] for e in portal} == {"portal.case_status_changed"}
    assert all(e["correlationid"] for e in events)  # where the AsyncAPI documents' correlationId points


def test_the_go_consumer_prints_the_status_of_the_case(closed_case, settings: Settings, portal_topic,
                                                      tmp_path: Path):
    go = shutil.which("go")
    if go is None:
        pytest.skip("`go` is not installed: the Go example consumer (examples/portal-consumer-go) cannot be built")
    binary = tmp_path / "portal-consumer"
    env = {**os.environ, "GOFLAGS": "-mod=readonly"}  # exactly the committed go.sum
    for step in (["test", "./..."], ["build", "-o", str(binary), "."]):  # its unit tests: legacy records, bad keys
        done = subprocess.run([go, *step], cwd=CONSUMER, env=env, capture_output=True, text=True, timeout=900,
                              check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    run_env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
               "PORTAL_TOPIC": settings.topics.portal_case_status, **credentials.env("portal")}
    done = subprocess.run([str(binary), "-idle", "4s"], env=run_env, capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr  # nothing skipped: every record was valid
    lines = [line.split(" ", 1) for line in done.stdout.splitlines()]
    mine = [status for case, status in lines if case == closed_case.case_id]
    assert mine and mine[-1] == "Closed", done.stdout
    assert set(mine) <= set(portal_topic.statuses(closed_case.case_id))
