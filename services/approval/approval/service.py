"""Approval's service layer: case events, commands, timers and absences in batches through the shared unit of work.

The parts live beside it: `service_base` (units of work, look-ups, outgoing messages), `service_events`,
`service_commands` and `service_timers`.
"""

from __future__ import annotations

from approval.service_base import ABSENCE, SOURCE, SYSTEM_ACTOR, TIMER, Lookups
from approval.service_commands import KINDS, CommandHandling
from approval.service_events import EVENT_MODELS, CaseEventHandling
from approval.service_timers import DUE_BATCH, TimerHandling

__all__ = ["ABSENCE", "DUE_BATCH", "EVENT_MODELS", "KINDS", "SOURCE", "SYSTEM_ACTOR", "TIMER", "ApprovalService", "Lookups"]


class ApprovalService(CaseEventHandling, CommandHandling, TimerHandling):
    """The approval chains of cases; every handler is safe to call again with the same message."""
