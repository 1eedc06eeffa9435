"""decide: envelope/schema checks, refusals shared by all types, history, events, account handling."""

from __future__ import annotations

from intake.core import Accepted, Account, Case, Refused, decide, load_seed_accounts
from shared.contract.events import EVENT_TYPES, CaseEvent
from tests.unit.test_decide_support import ACTORS, T0, Journey, command, opened

OPEN = {"case_type": "claim", "gbu": "marine", "account_id": "ACC-1002", "subject": "Broken lamp"}


def test_unknown_type_and_account_upsert_are_not_case_commands():
    for type_ in ["case.explode", "account.upsert"]:
        r = decide(None, command(type_, "C-1", "mary", {}), now=T0)
        assert isinstance(r, Refused) and r.code == "invalid"


def test_schema_violation_lists_the_fields():
    r = decide(None, command("case.open", "C-1", "mary", {"case_type": "claim", "quantity": 3}), now=T0)
    assert r.code == "invalid"
    for field in ("gbu", "account_id", "subject", "quantity"):
        assert field in r.reason
    r = decide(None, command("case.open", "C-1", {"id": ""}, OPEN), now=T0)
    assert r.code == "invalid" and "actor" in r.reason


def test_missing_subject_missing_case_existing_case():
    assert decide(None, command("case.open", None, "seller", OPEN), now=T0).code == "invalid"
    assert decide(None, command("case.update", "C-1", "seller", {"subject": "x"}), now=T0).code == "not_found"
    j = opened("claim", "seller")
    r = decide(j.case, command("case.open", j.case_id, "seller", OPEN), now=T0)
    assert r.code == "already_exists"
    assert decide(j.case, command("case.update", "OTHER", "seller", {}), now=T0).code == "invalid"


def test_unknown_case_type_names_the_known_ones():
    r = decide(None, command("case.open", "C-1", "mary", {**OPEN, "case_type": "warranty"}), now=T0)
    assert r.code == "invalid" and "csr" in r.reason and "claim" in r.reason


def test_opened_case_carries_account_details_and_events_carry_common_fields():
    account = load_seed_accounts()["ACC-1002"]
    r = decide(None, command("case.open", "C-1", "customer", OPEN), now=T0, account=account)
    assert isinstance(r, Accepted)
    assert r.case.account.name == "Helios Shipyards GmbH" and r.case.created_by.id == "cust.ola"
    assert (r.case.version, r.case.created_at, r.case.updated_at) == (1, T0, T0)
    (etype, event), = r.events
    assert etype == "case.opened" and isinstance(event, EVENT_TYPES[etype])
    assert (event.case_id, event.case_type, event.gbu, event.account_id, event.status, event.version) == (
        "C-1", "claim", "marine", "ACC-1002", "new", 1)
    assert Case.model_validate(event.case) == r.case


def test_missing_account_entry_is_tolerated_but_wrong_one_is_not():
    r = decide(None, command("case.open", "C-1", "customer", OPEN), now=T0, account=None)
    assert isinstance(r, Accepted) and r.case.account is None
    wrong = Account(account_id="ACC-9", name="Other")
    assert decide(None, command("case.open", "C-1", "customer", OPEN), now=T0, account=wrong).code == "invalid"


def test_every_event_of_every_command_has_final_status_and_version():
    j = opened("customer_request", "mary", fields={"request_type": "other"})
    j.ok("case.submit", "mary")
    j.ok("case.resolve", "mary", resolution="done", resolution_date="2025-03-05")
    for etype, event in j.events:
        assert isinstance(event, CaseEvent)
        assert (event.status, event.version, event.actor.id) == ("resolved", j.case.version, "mary")
    dumped = j.events[1][1].model_dump(mode="json", by_alias=True)
    assert dumped["from"] == "approved" and dumped["to"] == "resolved" and dumped["trigger"] == "automatic"


def test_history_records_who_when_command_and_before_after():
    j = opened("claim", "seller", fields={"order_reference": "SO-1"})
    j.ok("case.update", "seller", subject="New title", fields={"order_reference": "SO-2"})
    last = j.case.history[-1]
    assert (last.actor_id, last.command_type, last.at) == ("seller.ingrid", "case.update", j.now)
    changes = {c.field: (c.before, c.after) for c in last.changes}
    assert changes == {"subject": ("A claim", "New title"), "fields.order_reference": ("SO-1", "SO-2")}
    assert len({h.command_id for h in j.case.history}) == len(j.case.history) == 2


def test_forbidden_for_actor_without_role():
    j = opened("claim", "seller")
    r = j.no("case.update", "nobody", "forbidden", subject="x")
    assert "seller" in r.reason
    Journey("Z").no("case.open", "nobody", "forbidden", **OPEN)


def test_request_sample_on_existing_case_of_other_types():
    j = opened("claim", "seller")
    j.ok("case.request_sample", "seller", product_id="P-1", quantity=2, unit="pcs")
    j.no("case.request_sample", "seller", "invalid", product_id="P-1", quantity=0)
    assert len(j.case.sample_requests) == 1
    assert decide(None, command("case.request_sample", "NOPE", "seller", {"product_id": "P", "quantity": 1}), now=T0).code == "not_found"


def test_status_unknown_to_lifecycle_is_refused_not_crashing():
    j = opened("claim", "seller")
    broken = j.case.model_copy(update={"status": "archived"})
    r = decide(broken, command("case.update", j.case_id, ACTORS["seller"], {"subject": "x"}), now=T0)
    assert r.code == "invalid" and "archived" in r.reason
