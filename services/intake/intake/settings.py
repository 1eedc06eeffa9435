"""Intake's settings: the shared ones, under intake's name (intake has no settings of its own yet)."""

from __future__ import annotations

from shared.settings import Settings


class IntakeSettings(Settings):
    """Settings of the intake service: everything in `shared.settings.Settings`, e.g. LIMITS__CASE_BYTES."""

    service_name: str = "intake"
