"""The statuses each case type has, read from the shared lifecycle files (the source of truth)."""

from __future__ import annotations

from shared.lifecycles import load_lifecycles


def known_statuses() -> dict[str, set[str]]:
    """Case type -> its status codes; a mapping naming anything else is refused at load."""
    return {case_type: {s.code for s in lc.statuses} for case_type, lc in load_lifecycles().items()}
