"""The record's content (seed 003): subject, dates, quote and order status, the customer-visible messages, bounded."""

from __future__ import annotations

from portal_sync.core import ProjectionState, load_mapping, project, read_facts
from portal_sync.core.content import RecordLimits
from portal_sync.core.rebuild import carry_forward, fold
from shared.contract.envelope import CloudEvent
from tests.unit.portal_sync.events import T0, case_event, closing, message, moved, opened

MAPPING, _ = load_mapping()
QUOTE = {"subject": "120 ceiling lights", "created_at": "2026-11-25T09:59:00Z", "quote": {"status": "draft"}}


def run(events: list[CloudEvent], mapping=MAPPING, limits: RecordLimits = RecordLimits()) -> tuple[ProjectionState, list]:
    """Project in order; the final state and the records published."""
    state, published = None, []
    for event in events:
        outcome = project(state, read_facts(event), mapping, 1, limits)
        state = outcome.state or state
        if not state.holding:  # what lets an unchanged view skip serialising the record
            assert state.published_view == state.record.view_digest()
        if outcome.publish:
            published.append(outcome.state.record)
    return state, published


def quotation_events() -> list[CloudEvent]:
    return [opened("Q-1", "quotation", snapshot=QUOTE),
            case_event("case.quote_requested", "Q-1", "quotation", "new", 1, quote_status="draft", revision=1),
            moved("Q-1", "quotation", "new", "in_progress", 2),
            case_event("case.quote_sent", "Q-1", "quotation", "waiting_for_feedback", 3, quote_status="sent",
                       revision=1, amount=1500.0, currency="EUR"),
            moved("Q-1", "quotation", "in_progress", "waiting_for_feedback", 3),
            message("Q-1", "quotation", "response_received", 4, "Can you make it 150?"),
            moved("Q-1", "quotation", "waiting_for_feedback", "response_received", 4),
            case_event("case.assigned", "Q-1", "quotation", "response_received", 5, assignee="x", comment="internal"),
            message("Q-1", "quotation", "response_received", 6, "Yes, revised quote follows.", customer=False),
            case_event("case.updated", "Q-1", "quotation", "response_received", 7, command_type="case.update",
                       changes=[{"field": "subject", "before": "120 ceiling lights", "after": "150 ceiling lights"}]),
            case_event("case.updated", "Q-1", "quotation", "response_received", 8, command_type="case.update",
                       changes=[{"field": "fields.expected_revenue", "before": None, "after": 9000}]),
            *closing("Q-1", "quotation", "response_received", 9, "duplicated", "Q-0")]


def test_the_record_carries_what_seed_003_shows_and_each_command_publishes_once():
    state, published = run(quotation_events())
    assert [(r.version, r.portal_status, r.quote_status, r.subject, r.messages_total) for r in published] == [
        (1, "In Progress", "draft", "120 ceiling lights", 0),
        (3, "Awaiting Feedback", "sent", "120 ceiling lights", 0),  # quote sent and status moved: one record
        (4, "In Progress", "sent", "120 ceiling lights", 1),
        (6, "In Progress", "sent", "120 ceiling lights", 2),  # Glamox's answer: the status stays, the record changes
        (7, "In Progress", "sent", "150 ceiling lights", 2),  # subject changed
        (9, "Closed", "sent", "150 ceiling lights", 2)]  # an assignment and an internal field publish nothing
    last = state.record
    assert (last.closure_reason, last.duplicate_of, last.created_at.isoformat()) == ("duplicated", "Q-0", "2026-11-25T09:59:00+00:00")
    assert last.updated_at == last.changed_at == published[-1].updated_at
    assert [(m.id, m.from_customer, m.author, m.text) for m in last.messages] == [
        ("cmd-Q-1-4", True, "cust.ola", "Can you make it 150?"), ("cmd-Q-1-6", False, None, "Yes, revised quote follows.")]
    assert "internal" not in last.model_dump_json()  # an assignment's comment is not the customer's business


def test_dates_stay_when_nothing_visible_changes():
    state, published = run(quotation_events()[:3])  # new -> in_progress: both In Progress
    assert state.record.version == 2 and state.record.updated_at == published[0].updated_at == T0.replace(minute=1)


def test_staff_messages_can_be_hidden_by_the_mapping():
    mapping = MAPPING.model_copy(update={"messages": MAPPING.messages.model_copy(update={"staff_messages": False})})
    state, _ = run(quotation_events(), mapping)
    assert [m.from_customer for m in state.record.messages] == [True] and state.record.messages_total == 1


def test_an_order_shows_its_order_status():
    events = [opened("O-1", "order", snapshot={"subject": "Order for site B"}),
              case_event("case.order_placed", "O-1", "order", "in_progress", 2, order_reference="SO-7", order_status="placed"),
              case_event("case.order_confirmed", "O-1", "order", "accepted", 3, order_reference="SO-7",
                         order_status="confirmed")]
    _, published = run(events)
    assert [(r.portal_status, r.order_status, r.quote_status) for r in published] == [
        ("In Progress", None, None), ("In Progress", "placed", None), ("Accepted", "confirmed", None)]


def chat(count: int, text: str = "hello") -> list[CloudEvent]:
    return [opened("C-1", "claim", snapshot={"subject": "Broken"}),
            *(message("C-1", "claim", "new", v, f"{text} {v}") for v in range(2, count + 2))]


def test_messages_are_capped_to_the_latest_with_a_total():
    keep = MAPPING.model_copy(update={"messages": MAPPING.messages.model_copy(update={"keep": 3})})
    state, published = run(chat(7), keep)
    assert [m.text for m in state.record.messages] == ["hello 6", "hello 7", "hello 8"]
    assert state.record.messages_total == 7 and len(published) == 8


def test_texts_are_cut_to_the_limit_and_the_messages_kept_within_their_bytes():
    state, _ = run(chat(4, "x" * 300), limits=RecordLimits(text_chars=100, messages_bytes=500))
    kept = state.record.messages
    assert all(m.truncated and len(m.text) == 100 for m in kept) and state.record.messages_total == 4
    assert len(kept) == 2 and sum(len(m.model_dump_json()) for m in kept) <= 500  # older ones left out
    alone, _ = run(chat(1, "y" * 300), limits=RecordLimits(text_chars=1000, messages_bytes=10))
    assert len(alone.record.messages) == 1  # the newest is always there


def test_a_rebuild_replaying_every_event_gets_exactly_what_the_live_service_kept():
    keep = MAPPING.model_copy(update={"messages": MAPPING.messages.model_copy(update={"keep": 2})})
    events = [*chat(5), *closing("C-1", "claim", "new", 7, "completed")]
    live, _ = run(events, keep)
    states: dict = {}
    fold(states, [read_facts(e) for e in events], keep, 1)
    assert states["C-1"].record == live.record and states["C-1"].published_view == live.published_view


def test_a_case_carried_forward_keeps_its_content():
    state, _ = run(quotation_events())
    states: dict = {}
    assert carry_forward({"Q-1": state}, states, MAPPING, 2) == 1
    carried = states["Q-1"].record
    assert carried.model_dump(exclude={"generation"}) == state.record.model_dump(exclude={"generation"})


def test_a_view_stored_before_records_carried_content_is_published_again():
    state, _ = run(quotation_events()[:1])
    legacy = state.model_copy(update={"published_view": ["ACC-1", "Quotation", "In Progress", None, None]})
    outcome = project(legacy, read_facts(moved("Q-1", "quotation", "new", "in_progress", 2)), MAPPING, 1)
    assert outcome.publish and outcome.state.published_view == outcome.state.record.view_digest()
