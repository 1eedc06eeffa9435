"""The subscriptions file: every rule resolves; unknown roles or templates are refused at load."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from notifier.core.render import Renderer
from notifier.core.subscriptions import DEFAULT_FILE, ROLES, load_subscriptions
from shared.contract.events import EVENT_TYPES
from shared.contract.timeframes import TIMEFRAME_EVENT_TYPES

APPROVAL_EVENTS = {"approval.requested", "approval.decided", "approval.reminder", "approval.escalated"}


def test_shipped_file_loads_with_every_template_present():
    subs = load_subscriptions(templates=Renderer().names())
    assert subs.rules
    for rule in subs.rules:
        assert set(rule.notify) <= set(ROLES)
        published = set(EVENT_TYPES) | APPROVAL_EVENTS | set(TIMEFRAME_EVENT_TYPES)
        assert rule.event in published, f"{rule.event} is not an event anyone publishes"


def test_every_template_has_both_parts_and_a_subject_line():
    renderer = Renderer()
    used = {r.template for r in load_subscriptions().rules}
    assert used <= renderer.names()
    assert used == renderer.names(), "templates no rule uses"


def test_the_seeds_notifications_are_subscribed():
    subs = load_subscriptions()
    assert {"approval.requested", "approval.reminder", "approval.escalated", "case.assigned",
            "case.approval_recorded", "case.closed", "case.status_changed", "timeframe.reminded",
            "timeframe.escalated", "case.message_received"} <= subs.event_types()


def _write(tmp_path, rules):
    path = tmp_path / "subs.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "rules": rules}))
    return path


def test_unknown_role_is_refused(tmp_path):
    path = _write(tmp_path, [{"event": "case.closed", "notify": ["requester", "boss"], "template": "case_closed"}])
    with pytest.raises(ValidationError, match="unknown recipient role"):
        load_subscriptions(path, Renderer().names())


def test_unknown_template_is_refused(tmp_path):
    path = _write(tmp_path, [{"event": "case.closed", "notify": ["requester"], "template": "nope"}])
    with pytest.raises(ValueError, match="unknown template"):
        load_subscriptions(path, Renderer().names())


def test_unknown_key_and_empty_notify_are_refused(tmp_path):
    with pytest.raises(ValidationError):
        load_subscriptions(_write(tmp_path, [{"event": "case.closed", "notify": ["requester"],
                                              "template": "case_closed", "statusses": ["x"]}]))
    with pytest.raises(ValidationError):
        load_subscriptions(_write(tmp_path, [{"event": "case.closed", "notify": [], "template": "case_closed"}]))


def test_default_file_is_the_packaged_one():
    assert DEFAULT_FILE.name == "subscriptions.yaml" and DEFAULT_FILE.exists()
