"""Lifecycles as a shared contract: one YAML file per case type (`data/`), its model, checks and loader.

Intake interprets them (it is the only writer of cases); routing, approval and portal-sync read them
from here, so no service imports another service's package.
"""

from shared.lifecycles.checks import CASE_COMMANDS
from shared.lifecycles.loader import LIFECYCLE_DIR, Check, LifecycleError, load_lifecycle_file, load_lifecycles
from shared.lifecycles.model import (
    Closing,
    CommandRule,
    FieldSpec,
    Lifecycle,
    Section,
    Status,
    Transition,
)

__all__ = [
    "CASE_COMMANDS",
    "LIFECYCLE_DIR",
    "Check",
    "Closing",
    "CommandRule",
    "FieldSpec",
    "Lifecycle",
    "LifecycleError",
    "Section",
    "Status",
    "Transition",
    "load_lifecycle_file",
    "load_lifecycles",
]
