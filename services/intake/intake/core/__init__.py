"""Pure core of intake: lifecycles, the Case aggregate and `decide` (no I/O but its data files)."""

from intake.core.account import Account, load_seed_accounts
from intake.core.case import Case
from intake.core.decide import decide
from intake.core.lifecycle import Lifecycle
from intake.core.loader import LifecycleError, load_lifecycle_file, load_lifecycles
from intake.core.results import Accepted, Refused

__all__ = [
    "Accepted",
    "Account",
    "Case",
    "Lifecycle",
    "LifecycleError",
    "Refused",
    "decide",
    "load_lifecycle_file",
    "load_lifecycles",
    "load_seed_accounts",
]
