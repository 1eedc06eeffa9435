"""Crafted case events straight onto `case.events`: duplicates and stale versions change nothing wrong;
a changed mapping applied to every existing case by `python -m portal_sync rebuild`."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
import pytest_asyncio
import yaml

from portal_sync.core import DEFAULT_MAPPING
from tests.integration.portal_sync.conftest import PortalTopic, rebuild
from tests.support.kafka_io import Producer
from tests.support.oidc import bearer
from tests.unit.portal_sync.events import closing, message, moved, opened

pytestmark = pytest.mark.integration
IP, AF = "In Progress", "Awaiting Feedback"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def producer(settings):
    async with Producer(settings.kafka_bootstrap_servers) as p:
        yield p


async def publish(producer: Producer, settings, *events) -> None:
    for event in events:
        await producer.send(settings.topics.case_events, json.loads(event.to_bytes()))


def get(url: str) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=bearer("carl")), timeout=10) as resp:  # staff
        return json.loads(resp.read())


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_duplicates_and_stale_versions_change_nothing(settings, portal, producer, portal_topic: PortalTopic):
    case = uid("CLAIM")
    v3 = moved(case, "claim", "in_progress", "waiting_for_feedback", 3)
    await publish(producer, settings, opened(case, "claim"), v3)
    await portal_topic.wait(case, AF, version=3)
    await publish(producer, settings, v3, opened(case, "claim"),  # the same events again
                  moved(case, "claim", "new", "in_progress", 2))  # and an older one, late
    await publish(producer, settings, *closing(case, "claim", "waiting_for_feedback", 4, "rejected"))
    await portal_topic.wait(case, "Closed", closure_reason="rejected")
    await portal_topic.reader.quiet(0.5)
    assert [(d["data"]["portal_status"], d["data"]["version"]) for d in portal_topic.records(case)] == [
        (IP, 1), (AF, 3), ("Closed", 4)]
    seen = get(f"{portal.url}/cases/{case}")
    assert (seen["portal_status"], seen["version"], seen["closure_reason"]) == ("Closed", 4, "rejected")


async def test_stale_event_after_a_newer_one_is_ignored(settings, portal, producer, portal_topic: PortalTopic):
    case = uid("QUOTATION")
    await publish(producer, settings, opened(case, "quotation"),
                  moved(case, "quotation", "new", "waiting_for_feedback", 3),
                  moved(case, "quotation", "new", "in_progress", 2))  # versions 3 then 2
    await portal_topic.wait(case, AF, version=3)
    await portal_topic.reader.quiet(1.5)
    assert portal_topic.statuses(case) == [IP, AF]
    assert get(f"{portal.url}/cases/{case}")["portal_status"] == AF


async def test_rebuild_applies_a_changed_mapping_to_every_existing_case(settings, portal, producer, tmp_path,
                                                                        portal_topic: PortalTopic):
    claim, quote, order = uid("CLAIM"), uid("QUOTATION"), uid("ORDER")
    await publish(producer, settings, opened(claim, "claim"),
                  moved(claim, "claim", "new", "waiting_for_technical_feedback", 2),
                  message(claim, "claim", "waiting_for_technical_feedback", 3, "Which batch number?", customer=False),
                  opened(quote, "quotation"), moved(quote, "quotation", "new", "awaiting_internal", 2),
                  opened(order, "order"))
    await portal_topic.wait(claim, AF, version=3, messages_total=1)
    await portal_topic.wait(order, IP)
    await portal_topic.wait(quote, IP, version=1)
    before = len(portal_topic.reader.records)
    was = {case: get(f"{portal.url}/cases/{case}") for case in (claim, quote, order)}

    mapping = yaml.safe_load(DEFAULT_MAPPING.read_text())
    mapping["version"] = 3  # the business decides customers should see that a quotation waits on Glamox
    mapping["portal_statuses"].append("Awaiting Glamox")
    mapping["case_types"]["quotation"]["statuses"]["awaiting_internal"] = "Awaiting Glamox"
    done = rebuild(settings, tmp_path, mapping)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["previous_generation"], report["generation"], report["mapping_version"]) == (1, 2, 3)
    assert report["changed"] >= 1 and report["cases"] >= 3, (report, done.stdout[-3000:])

    rebuilt = await portal_topic.wait(quote, "Awaiting Glamox")
    assert (rebuilt["version"], rebuilt["mapping_version"], rebuilt["generation"]) == (2, 3, 2)
    await portal_topic.reader.quiet(1.0)
    republished = {json.loads(r.value)["subject"] for r in portal_topic.reader.records[before:]}
    assert quote in republished and not {claim, order} & republished  # only views that changed
    bookkeeping = {"generation": 2, "mapping_version": 3}  # every case is in the new generation
    for case in (claim, order):  # the rest of each record exactly as the replay makes it again
        assert get(f"{portal.url}/cases/{case}") == {**was[case], **bookkeeping}
    now = get(f"{portal.url}/cases/{quote}")  # changed at version 2 now, when it moved to awaiting_internal
    assert now == {**was[quote], **bookkeeping, "portal_status": "Awaiting Glamox", "changed_at": now["changed_at"],
                   "updated_at": now["updated_at"]} and now["updated_at"] > was[quote]["updated_at"]

    later = uid("QUOTATION")  # the running service follows the switch: new events use the new mapping
    await publish(producer, settings, opened(later, "quotation"), moved(later, "quotation", "new", "awaiting_internal", 2))
    live = await portal_topic.wait(later, "Awaiting Glamox")
    assert (live["mapping_version"], live["generation"]) == (3, 2)


def test_rebuild_refuses_a_mapping_with_an_unknown_status(settings, portal, tmp_path):
    active = get(f"{portal.url}/accounts/ACC-1/cases")["cases"]
    mapping = yaml.safe_load(DEFAULT_MAPPING.read_text())
    mapping["case_types"]["order"]["statuses"]["shipped"] = "In Progress"
    done = rebuild(settings, tmp_path, mapping)
    assert done.returncode == 2 and "unknown status 'shipped' for case type 'order'" in done.stderr
    assert get(f"{portal.url}/accounts/ACC-1/cases")["cases"] == active  # nothing switched
