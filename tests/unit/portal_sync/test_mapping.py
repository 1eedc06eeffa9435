"""The portal status mapping file: exactly seed 003's tables, and refused when it names what does not exist."""

from __future__ import annotations

import pytest
import yaml

from portal_sync.adapters.outbound.lifecycles import known_statuses
from portal_sync.core import DEFAULT_MAPPING, MappingError, load_mapping, parse_mapping
from shared.lifecycles import LIFECYCLE_DIR, LifecycleError, load_lifecycle_file, load_lifecycles

IP, AF, CLOSED = "In Progress", "Awaiting Feedback", "Closed"
NOT_SHOWN = {"csr", "customer_request", "helpdesk", "sales", "purchase"}
SEED_003 = {
    "claim": ("Claim Case", {
        "new": IP, "in_progress": IP, "waiting_for_feedback": AF, "waiting_for_technical_feedback": AF,
        "response_received": IP, "awaiting_approval": IP, "approved": IP, "replacement_order_issued": IP,
        "replacement_order_delivered": IP, "closed": CLOSED}),
    "change_request": ("Change Request", {
        "new": IP, "in_progress": IP, "waiting_for_feedback": AF, "awaiting_internal": IP,
        "response_received": IP, "closed": CLOSED}),
    "change_order": ("Change Request", {
        "new": IP, "in_progress": IP, "waiting_for_feedback": AF, "awaiting_internal": IP,
        "response_received": IP, "closed": CLOSED}),
    "quotation": ("Quotation", {
        "new": IP, "in_progress": IP, "waiting_for_feedback": AF, "awaiting_internal": IP,
        "response_received": IP, "closed": CLOSED}),
    "order": ("Order Case", {"new": IP, "in_progress": IP, "accepted": "Accepted", "completed": "Completed",
                             "closed": CLOSED}),
}


@pytest.fixture(scope="module")
def known():
    return known_statuses()


def raw() -> dict:
    return yaml.safe_load(DEFAULT_MAPPING.read_text())


def test_packaged_mapping_is_seed_003_for_every_portal_case_type_and_status(known):
    mapping, _ = load_mapping(None, known)
    assert set(mapping.case_types) == set(SEED_003)
    for case_type, (label, statuses) in SEED_003.items():
        assert mapping.portal_type(case_type) == label
        for status, shown in statuses.items():
            assert mapping.portal_status(case_type, status) == shown, (case_type, status)
        assert set(mapping.case_types[case_type].statuses) == known[case_type]  # every status of intake's lifecycle


def test_every_status_of_every_lifecycle_has_a_portal_status_or_its_type_is_not_shown():
    # The mapping is the only place saying what the portal shows; the lifecycle files carry no portal status.
    mapping, _ = load_mapping()
    lifecycles = load_lifecycles()
    assert set(mapping.case_types) <= set(lifecycles)
    for case_type, lc in lifecycles.items():
        if case_type in NOT_SHOWN:
            assert not mapping.shows(case_type)
            continue
        for status in lc.statuses:
            assert mapping.portal_status(case_type, status.code) in mapping.portal_statuses, (case_type, status.code)


def test_a_lifecycle_file_giving_a_portal_status_is_refused(tmp_path):
    raw_lc = yaml.safe_load((LIFECYCLE_DIR / "claim.yaml").read_text())
    raw_lc["statuses"][0]["portal_label"] = IP
    (tmp_path / "claim.yaml").write_text(yaml.safe_dump(raw_lc))
    with pytest.raises(LifecycleError, match="portal_label"):
        load_lifecycle_file(tmp_path / "claim.yaml")


@pytest.mark.parametrize("case_type", sorted(NOT_SHOWN))
def test_case_types_the_portal_does_not_show_are_not_projected(case_type, known):
    assert case_type in known and not load_mapping(None, known)[0].shows(case_type)


def test_an_unknown_status_is_refused_at_load_naming_it(known):
    doc = raw()
    doc["case_types"]["claim"]["statuses"]["on_hold"] = IP
    with pytest.raises(MappingError, match=r"unknown status 'on_hold' for case type 'claim'"):
        parse_mapping(yaml.safe_dump(doc), known)


def test_an_unknown_case_type_is_refused(known):
    doc = raw()
    doc["case_types"]["warranty"] = {"portal_type": "Warranty", "statuses": {"new": IP}}
    with pytest.raises(MappingError, match="unknown case type 'warranty'"):
        parse_mapping(yaml.safe_dump(doc), known)


def test_a_status_left_without_portal_status_is_refused(known):
    doc = raw()
    del doc["case_types"]["quotation"]["statuses"]["awaiting_internal"]
    with pytest.raises(MappingError, match="status 'awaiting_internal' of case type 'quotation' has no portal status"):
        parse_mapping(yaml.safe_dump(doc), known)


def test_a_misspelt_portal_status_is_refused():
    doc = raw()
    doc["case_types"]["order"]["statuses"]["accepted"] = "Acepted"
    with pytest.raises(MappingError, match="order.accepted maps to 'Acepted'"):
        parse_mapping(yaml.safe_dump(doc))


@pytest.mark.parametrize("text", ["version: 0\nportal_statuses: [A]\ncase_types: {}", "- not a mapping",
                                  "version: 1\nportal_statuses: [A]\ncase_types: {}\nextra: 1", ": : :"])
def test_malformed_files_are_refused(text):
    with pytest.raises(MappingError):
        parse_mapping(text)


def test_missing_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(MappingError, match="cannot read"):
        load_mapping(tmp_path / "nope.yaml")
