"""decide, property-based: random command sequences never break the lifecycle invariants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.core import Accepted, Case, Refused, decide, load_lifecycles, load_seed_accounts
from shared.contract.commands import COMMAND_TYPES
from shared.contract.envelope import CloudEvent
from tests.unit.test_decide_support import T0

LCS = load_lifecycles()
ACCOUNTS = load_seed_accounts()
STATUSES = sorted({s.code for lc in LCS.values() for s in lc.statuses} | {"bogus"})
REASONS = sorted({r for lc in LCS.values() for r in lc.closing.reasons} | {"bogus"})
ROLES = sorted({r for lc in LCS.values() for rule in lc.commands.values() for r in rule.roles}
               | {r for lc in LCS.values() for t in lc.transitions for r in t.roles})
FIELD_VALUES = st.one_of(st.none(), st.integers(-5, 200), st.floats(allow_nan=True), st.booleans(),
                         st.sampled_from(["2025-01-02", "x", "technical_information", "labelling", "web_form"]))

BOSS = {"id": "boss", "roles": [r for r in ROLES if not r.startswith("system:")]}
actors = st.one_of(
    st.just(BOSS), st.just(BOSS), st.just({"id": "system:approval", "roles": ["system:approval"]}),
    st.builds(lambda who, roles: {"id": who, "roles": roles}, st.sampled_from(["mary", "frank", "cust"]),
              st.lists(st.sampled_from([r for r in ROLES if not r.startswith("system:")]), max_size=3)),
    st.sampled_from([{"id": "system:approval", "roles": ["system:approval"]}, {"id": "system:routing", "roles": ["system:routing"]},
                     {"id": "system:portal-sync", "roles": ["system:portal-sync"]}, {"id": "system:webform", "roles": ["system:webform"]}]),
)
fields = st.dictionaries(st.sampled_from(["request_type", "requirement_category", "probability",
                                          "expected_revenue", "channel", "order_reference", "colour"]),
                         FIELD_VALUES, max_size=3)
maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
ids = st.sampled_from(["P-1", "P-2", "A-2", "CASE-X"])

PAYLOADS = {
    "case.open": st.fixed_dictionaries({
        "case_type": st.sampled_from(sorted(LCS) + ["warranty"]), "gbu": st.just("marine"),
        "account_id": st.sampled_from(sorted(ACCOUNTS) + ["ACC-NEW"]), "subject": st.just("s"),
    }, optional={"fields": fields, "cause": maybe(st.sampled_from(["technical", "logistics", "weather"])),
                 "assignee": maybe(st.just("tom")), "queue": maybe(st.sampled_from(["l1", "helpdesk", "sales-lighting"])), "is_sample_request": st.sampled_from([False] * 9 + [True])}),
    "case.update": st.fixed_dictionaries({}, optional={"subject": st.just("t"), "fields": fields,
                                                       "cause": maybe(st.sampled_from(["commercial", "x"]))}),
    "case.add_product": st.fixed_dictionaries({"product_id": ids}),
    "case.remove_product": st.fixed_dictionaries({"product_id": ids}),
    "case.add_account": st.fixed_dictionaries({"account_id": ids}),
    "case.add_shipping_site": st.fixed_dictionaries({"site_id": ids}),
    "case.add_team_member": st.fixed_dictionaries({"person_id": ids, "role": st.sampled_from(["assessor", "x"])}),
    "case.submit": st.just({}),
    "case.set_status": st.fixed_dictionaries({"status": st.sampled_from(STATUSES)}),
    "case.record_assessment": st.fixed_dictionaries({"feasibility_conclusion": st.sampled_from(["ok", ""])}),
    "case.resolve": st.fixed_dictionaries({}, optional={"resolution": st.just("done"), "resolution_date": st.just("2025-02-02")}),
    "case.add_customer_message": st.fixed_dictionaries({"message": st.just("hi")}),
    "case.assign": st.fixed_dictionaries({}, optional={"assignee": maybe(st.just("ann")), "queue": maybe(st.sampled_from(["l2", "support-l2", "purchase"]))}),
    "case.close": st.fixed_dictionaries({}, optional={"reason": st.sampled_from(REASONS), "duplicate_of": st.just("C-0")}),
    "case.request_sample": st.fixed_dictionaries({"product_id": ids, "quantity": st.integers(-1, 3)}),
    "case.record_satisfaction": st.fixed_dictionaries({"score": st.integers(0, 6)}),
    "case.record_approval": st.fixed_dictionaries({
        "decision": st.sampled_from(["approve", "reject", "maybe"]), "approver": st.just("john"),
        "step": st.sampled_from(["approval", "pre_approval", "final_approval", "x"])}),
    "case.request_quote": st.just({}),
    "case.send_quote": st.fixed_dictionaries({}, optional={"amount": st.integers(-1, 10)}),
    "case.place_order": st.fixed_dictionaries({"order_reference": st.sampled_from(["SO-1", ""])}),
    "case.confirm_order": st.just({}),
    "account.upsert": st.fixed_dictionaries({"account_id": ids, "name": st.just("n")}),
    "person.upsert": st.fixed_dictionaries({"id": ids, "name": st.just("n"), "email": st.just("e")}),  # intake's service, not decide
    "case.teleport": st.just({}),
}
assert set(COMMAND_TYPES) <= set(PAYLOADS)
TYPES = [t for t in sorted(PAYLOADS) if t.startswith("case.")] * 4 + ["account.upsert", "case.teleport"]
commands = st.sampled_from(TYPES).flatmap(
    lambda t: st.tuples(st.just(t), actors, PAYLOADS[t], st.booleans()))
CODES = {"invalid", "not_found", "already_exists", "transition_not_allowed", "guard_failed", "case_locked", "closed", "forbidden"}


VALID_FIELDS = {"customer_request": {"request_type": "other"}, "csr": {"requirement_category": "quality"}}
valid_open = st.sampled_from(sorted(LCS)).map(
    lambda t: {"case_type": t, "gbu": "g", "account_id": "ACC-1001", "subject": "s", "fields": VALID_FIELDS.get(t, {})})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.one_of(valid_open, valid_open, valid_open, PAYLOADS["case.open"]), opener=st.one_of(st.just(BOSS), st.just(BOSS), st.just(BOSS), actors),
       steps=st.lists(commands, min_size=5, max_size=40))
def test_random_sequences_keep_invariants(first, opener, steps):
    case: Case | None = None
    now = T0
    for n, (type_, actor, data, garbage) in enumerate([("case.open", opener, first, False), *steps]):
        now += timedelta(minutes=1)
        payload = {"actor": actor, **data, **({"unexpected": 1} if garbage and n % 9 == 0 else {})}
        env = CloudEvent(id=f"c{n}", source="/prop", type=type_, subject="CASE-1", data=payload)
        account = ACCOUNTS.get(data.get("account_id", "")) if type_ == "case.open" else None
        before = case.model_dump(mode="json") if case else None
        result = decide(case, env, now=now, account=account)
        assert (case.model_dump(mode="json") if case else None) == before
        if isinstance(result, Refused):
            assert result.code in CODES and result.reason
            continue
        assert isinstance(result, Accepted)
        new = result.case
        lc = LCS[new.case_type]
        assert new.version == (case.version + 1 if case else 1)
        assert lc.status(new.status) is not None
        assert new.updated_at == now and new.history[-1].command_id == env.id
        assert new.related_product_count == len(new.related_products)
        assert Case.model_validate(new.model_dump(mode="json")) == new
        for etype, event in result.events:
            assert getattr(event, "version", new.version) == new.version
            if etype == "case.status_changed":
                assert lc.status(event.to) is not None and lc.status(event.from_status) is not None
        if case is not None and lc.status(case.status).category == "closed":
            assert type_ in lc.status(case.status).accepts
        case = new


GOOD = {
    "case.set_status": lambda lc: st.fixed_dictionaries({"status": st.sampled_from([s.code for s in lc.statuses])}),
    "case.close": lambda lc: st.fixed_dictionaries(
        {"reason": st.sampled_from(sorted(lc.closing.reasons))}, optional={"duplicate_of": st.just("C-0")}),
    "case.record_approval": lambda lc: st.fixed_dictionaries({
        "decision": st.sampled_from(["approve", "reject"]), "approver": st.just("john"),
        "step": st.sampled_from(sorted({s.approval_step or "approval" for s in lc.statuses}))}),
}


@pytest.mark.parametrize("case_type", sorted(LCS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_guided_walks_reach_deep_statuses_and_keep_invariants(case_type, data):
    lc = LCS[case_type]
    # Without sales_rep the opener's customer requests go through the approval round.
    opener = data.draw(st.sampled_from([BOSS, {"id": "boss2", "roles": [r for r in BOSS["roles"] if r != "sales_rep"]}]))
    open_data = {"case_type": case_type, "gbu": "g", "account_id": "ACC-1001", "subject": "s",
                 "fields": VALID_FIELDS.get(case_type, {})}
    case = decide(None, CloudEvent(id="c0", source="/p", type="case.open", subject="W-1",
                                   data={"actor": opener, **open_data}), now=T0).case
    for n in range(1, 40):
        # Closing ends a walk, so it is drawn less often than the other commands.
        type_ = data.draw(st.sampled_from(sorted(t for t in lc.commands if t not in ("case.open", "case.close")) * 4
                                          + ["case.close"]))
        payload = data.draw(GOOD[type_](lc) if type_ in GOOD else PAYLOADS[type_])
        actor = ({"id": "system:approval", "roles": ["system:approval"]} if type_ == "case.record_approval"
                 else data.draw(st.sampled_from([BOSS, BOSS, {"id": "cust", "roles": ["customer"]}])))
        env = CloudEvent(id=f"c{n}", source="/p", type=type_, subject="W-1", data={"actor": actor, **payload})
        result = decide(case, env, now=T0 + timedelta(minutes=n))
        if isinstance(result, Refused):
            assert result.code in CODES
            continue
        assert result.case.version == case.version + 1
        assert lc.status(result.case.status) is not None
        assert len(result.case.history) == len(case.history) + 1
        case = result.case
