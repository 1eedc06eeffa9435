"""Approval settings: the shared ones plus the scheduler period and the rules file."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class ApprovalSettings(Settings):
    """Read from the environment like every service's settings (`APPROVAL_*` for ours)."""

    approval_scheduler_seconds: float = Field(30.0, description="How often due reminders, escalations and absences are looked for.")
    approval_rules_file: str | None = Field(None, description="Rule set YAML used at start-up (default: the packaged approval_rules.yaml).")
