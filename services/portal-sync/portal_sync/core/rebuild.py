"""A rebuild's decisions, pure: fold the event log into states, carry expired cases forward, compare views."""

from __future__ import annotations

from collections.abc import Iterable

from portal_sync.core.content import CONTENT_FIELDS, RecordLimits
from portal_sync.core.mapping import PortalMapping
from portal_sync.core.projection import CaseFacts, ProjectionState, project


def fold(states: dict[str, ProjectionState], facts: Iterable[CaseFacts], mapping: PortalMapping,
         generation: int, limits: RecordLimits = RecordLimits()) -> None:
    """Project `facts` in order into `states` (case id -> state), as the live service would."""
    for fact in facts:
        outcome = project(states.get(fact.case_id), fact, mapping, generation, limits)
        if outcome.state is not None:
            states[fact.case_id] = outcome.state


def carry_forward(old: dict[str, ProjectionState], states: dict[str, ProjectionState], mapping: PortalMapping,
                  generation: int) -> int:
    """Cases whose events the log no longer holds (retention) are re-mapped from their stored internal status.

    Their content (subject, dates, messages...) is kept as stored: the events it came from are gone.
    """
    carried = 0
    for case_id, was_state in old.items():
        if case_id in states:
            continue
        was = was_state.record
        facts = CaseFacts(f"carried:{case_id}@{was.version}", "carried", case_id, was.case_type, was.account_id,
                          was_state.status, was.version, was.changed_at, closure_reason=was.closure_reason,
                          duplicate_of=was.duplicate_of)
        outcome = project(None, facts, mapping, generation)
        if outcome.state is not None:
            kept = {**{f: getattr(was, f) for f in CONTENT_FIELDS}, "updated_at": was.updated_at or was.changed_at}
            states[case_id] = outcome.state.model_copy(update={"record": outcome.state.record.model_copy(update=kept)})
            carried += 1
    return carried


def compare(state: ProjectionState, old: ProjectionState | None) -> tuple[ProjectionState, bool]:
    """The new state carrying what the customer was last sent; True when a record must tell them the new view."""
    state = state.model_copy(update={"published_view": old.published_view if old else None})
    if state.holding or not state.view_changed():
        return state, False
    return state.model_copy(update={"published_view": state.record.view_digest()}), True


def rebuild_cause(state: ProjectionState) -> str:
    """The id a rebuild's record derives from (a second rebuild of the same version repeats it)."""
    return f"rebuild:{state.record.case_id}@{state.record.version}"
