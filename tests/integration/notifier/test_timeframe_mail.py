"""Case time-frames end to end: intake, routing and the notifier as real processes, the real broker and SMTP sink.

A tiny time-frame (seconds, on the 24x7 calendar, from this test's own data files) makes an open helpdesk
case overdue: its assignee gets the reminder, the queue's owner the escalation; a case closed in time gets
neither. A customer's message that sets Response Received on a claim mails its assignee.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from shared.settings import Settings
from tests.integration.notifier.conftest import wait_for_mail
from tests.support.env import service_env
from tests.support.journey import Journey, opening, wire  # noqa: F401  (wire is the module fixture)
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration

# 0.003 h = 10.8 s to the due time, 0.0015 h = 5.4 s more to the escalation: enough for the journey's few
# commands to land before the reminder even on a loaded machine, short enough to wait for.
FRAMES = {"version": 1, "queue_owners": {"helpdesk": "clara"},
          "frames": [{"id": "helpdesk-quick", "case_type": "helpdesk", "gbu": "timers", "hours": 0.003,
                      "escalate_after_hours": 0.0015, "escalate_to": ["manager", "queue_owner"]}]}
CALENDARS = {"version": 1, "gbus": {"default": "eu-office", "timers": "24x7"}, "calendars": {
    "eu-office": {"timezone": "Europe/Oslo", "working_days": ["mon", "tue", "wed", "thu", "fri"], "hours": ["08:00", "16:00"]},
    "24x7": {"timezone": "UTC", "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "hours": ["00:00", "24:00"]}}}


def _file(folder: Path, name: str, data: dict) -> str:
    path = folder / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def routing(settings: Settings, intake: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """Routing as a real process with this test's time-frames and calendars."""
    folder = tmp_path_factory.mktemp("routing")
    env = service_env(settings, TIME_FRAMES_FILE=_file(folder, "time_frames.yaml", FRAMES),
                      CALENDARS_FILE=_file(folder, "calendars.yaml", CALENDARS))
    proc = ServiceProcess("routing", env, folder / "routing.log")
    proc.start()
    yield proc
    proc.stop()


def about(messages, case_id: str, subject_start: str) -> list:
    return [m for m in messages if case_id in m.get_body(("plain",)).get_content() and m["Subject"].startswith(subject_start)]


async def test_overdue_cases_are_reminded_and_escalated_closed_ones_are_not_and_customer_replies_are_told(
        wire, routing, notifier, smtp):  # noqa: F811
    closed = Journey(wire, "helpdesk")  # opened first: due first, so its turn has passed when the other escalates
    await closed.ok("case.open", "webform", **opening("helpdesk", {"channel": "web_form"}, gbu="timers", queue="helpdesk"))
    await closed.ok("case.close", "agent", expect=("case.closed",))
    late = Journey(wire, "helpdesk")
    await late.ok("case.open", "webform", **opening("helpdesk", {"channel": "web_form"}, gbu="timers", queue="helpdesk"))
    await late.ok("case.assign", "agent", expect=("case.assigned",))  # agent.tom takes it (no manager: queue owner)

    claim = Journey(wire, "claim")  # commercial: routing assigns the account owner, seller.ingrid
    await claim.ok("case.open", "carl", **opening("claim", {"order_reference": "SO-9"}, cause="commercial"))
    await wire.reader.wait_for(lambda _: any(e["data"].get("assignee") == "seller.ingrid"
                                             for e in claim.events("case.assigned")), 60)
    await claim.ok("case.set_status", "seller", status="in_progress", expect=("case.status_changed",))
    await claim.ok("case.add_customer_message", "portal", message="Photos attached",
                   expect=("case.message_received", "case.status_changed"))
    assert claim.status == "response_received"

    mail = await wait_for_mail(smtp, lambda ms: bool(about(ms, late.case_id, "Escalated:"))
                               and bool(about(ms, claim.case_id, "The customer replied")), timeout=120)
    (reminder,) = about(mail, late.case_id, "Overdue:")
    assert reminder["To"] == "tom@example.com"
    (escalation,) = about(mail, late.case_id, "Escalated:")
    assert escalation["To"] == "clara@example.com"
    assert "owner of queue helpdesk" in escalation.get_body(("plain",)).get_content()
    (replied,) = about(mail, claim.case_id, "The customer replied")
    assert replied["To"] == "ingrid@example.com" and "Photos attached" in replied.get_body(("plain",)).get_content()
    assert about(mail, closed.case_id, "") == []  # closed in time: no timer, no mail
