"""Rule sets and states for the approval unit tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from approval.core import CaseApprovals, Linker, approval_steps, load_rule_file, validate_rule_set
from shared.directory import load_directory
from shared.lifecycles import load_lifecycles

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Oslo
LINKER = Linker("secret", "https://cases.example.com")
DIRECTORY = load_directory()
STEPS = approval_steps(load_lifecycles())


def raw_rules() -> dict:
    """A fresh copy of the packaged rule set."""
    return copy.deepcopy(load_rule_file())


def rules(raw: dict | None = None):
    """The validated packaged (or given) rule set."""
    return validate_rule_set(raw or raw_rules(), STEPS, DIRECTORY)


def case(case_type: str = "csr", gbu: str = "marine", account_id: str = "ACC-1001", **facts) -> CaseApprovals:
    """An approval state of a case not asked yet."""
    return CaseApprovals(case_id="C-1", case_type=case_type, gbu=gbu, account_id=account_id, facts=facts)
