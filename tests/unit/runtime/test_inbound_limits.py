"""parse_envelope reads any bytes into an envelope or a Malformed with a reason, within the limits."""

from __future__ import annotations

import json

import pytest

from shared.runtime.inbound import Malformed, dead_letter_headers, dead_letter_value, parse_envelope
from shared.runtime.json_guard import nesting_depth
from shared.settings import Limits
from tests.support.kafka_io import command

LIMITS = Limits()


def raw(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def malformed(value: bytes, *, is_command: bool = True, limits: Limits = LIMITS) -> Malformed:
    with pytest.raises(Malformed) as caught:
        parse_envelope(value, limits, command=is_command)
    return caught.value


def test_a_valid_command_is_read():
    event = parse_envelope(raw(command("case.open", "CASE-1", {"x": 1})), LIMITS, command=True)
    assert event.subject == "CASE-1" and event.data == {"x": 1}


@pytest.mark.parametrize("value, reason", [
    (b"", "empty message"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 3000 + b"]" * 3000, "nested deeper than the limit of 32"),
    (b"[" * 3000, "nested deeper than the limit of 32"),
    (b'{"id": NaN}', "NaN is not a JSON number"),
    (b'{"id": 1' + b"1" * 5000 + b"}", "not JSON this service reads"),
    (b"\x00", "not JSON"),
    (b'"just a string"', "must be a JSON object"),
])
def test_unreadable_bytes_are_malformed_with_nothing_to_echo(value, reason):
    bad = malformed(value)
    assert reason in bad.error and not bad.refusable


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert nesting_depth(raw({"text": "[" * 5000 + '\\"{'}), 32) == 1
    assert parse_envelope(raw(command("case.update", "C-1", {"text": "[" * 5000})), LIMITS).data["text"]


def test_a_record_over_the_record_limit_says_its_size():
    bad = malformed(b"x" * 1_200_000)
    assert bad.error == "record of 1200000 bytes is over the limit of 1048576 bytes" and not bad.refusable


def test_a_command_over_the_command_limit_is_refused_too_large_with_its_ids():
    doc = command("case.update", "C-1", {"description": "x" * 19_000, "notes": ["y" * 19_000] * 15}, id_="cmd-1")
    bad = malformed(raw(doc))
    assert bad.code == "too_large" and bad.refusable and bad.command_id == "cmd-1" and bad.case_id == "C-1"
    assert "over the limit of 262144 bytes" in bad.error
    assert parse_envelope(raw(doc), LIMITS, command=False).id == "cmd-1"  # an event may be that big


@pytest.mark.parametrize("data, reason", [
    ({"text": "x" * 20_001}, "data.text has 20001 characters, over the limit of 20000"),
    ({"items": list(range(1001))}, "data.items has 1001 items, over the limit of 1000"),
    ({"n": 2**64}, "data.n is an integer outside the 64-bit range"),
    ({"text": "a\x00b"}, "data.text contains a lone surrogate or NUL"),
    ({"text": "a\ud800b"}, "data.text contains a lone surrogate or NUL"),
    ({"\udc80": 1}, "has a key that is too long or contains a lone surrogate or NUL"),
])
def test_values_past_the_limits_are_refused_with_a_clear_reason(data, reason):
    bad = malformed(raw(command("case.update", "C-1", data, id_="cmd-2")))
    assert reason in bad.error and bad.code == "invalid" and bad.refusable


@pytest.mark.parametrize("id_", ["\ud800", "a\x00b", "x" * 65, "line\nbreak", 5, None, ""])
def test_an_id_that_cannot_be_echoed_is_not_refusable(id_):
    doc = command("case.update", "C-1", {}, id_="placeholder")
    doc["id"] = id_
    bad = malformed(raw(doc))
    assert not bad.refusable and bad.command_id is None
    json.dumps(bad.error).encode()  # the reason itself is always writable


@pytest.mark.parametrize("subject, reason", [
    ("a b", "is not a valid case id"),
    ("-C", "is not a valid case id"),
    ("C" * 65, "subject has 65 characters, over the limit of 64"),
])
def test_a_command_subject_must_be_a_plain_short_case_id(subject, reason):
    bad = malformed(raw(command("case.update", subject, {}, id_="cmd-3")))
    assert reason in bad.error and bad.command_id == "cmd-3"
    parse_envelope(raw(command("case.updated", subject, {}, id_="ev-1")), LIMITS, command=False)  # events: not checked


@pytest.mark.parametrize("field, value", [
    ("id", 7), ("source", ["x"]), ("type", {"a": 1}), ("subject", 3.5), ("time", "yesterday"),
    ("specversion", None), ("data", "text"), ("correlationid", 12),
])
def test_cloudevents_attributes_of_the_wrong_type_are_malformed(field, value):
    doc = command("case.update", "C-1", {}, id_="cmd-4")
    doc[field] = value
    bad = malformed(raw(doc))
    assert bad.error.startswith("Invalid envelope:") or "valid case id" in bad.error


def test_limits_are_settings():
    tight = Limits(json_depth=2, text_chars=16)
    assert "nested deeper than the limit of 2" in malformed(raw(command("t", "C", {"a": {"b": 1}})), limits=tight).error
    assert "over the limit of 16" in malformed(raw(command("t", "C", {"a": "x" * 17})), limits=tight).error


def test_dead_letter_headers_are_always_encodable():
    headers = dead_letter_headers("bad \ud800 id \x00" + "x" * 5000, "t", 0, 1)
    for value in headers.values():
        value.encode()
    assert len(headers["dlq-error"]) == 2001 and "\\ud800" in headers["dlq-error"]


def test_a_value_too_big_for_the_dead_letter_topic_is_cut_and_says_so():
    value, extra = dead_letter_value(b"x" * 2_000_000, LIMITS)
    assert len(value) < LIMITS.record_bytes and extra["dlq-truncated"].startswith("2000000 bytes cut to")
    assert dead_letter_value(b"small", LIMITS) == (b"small", {})
