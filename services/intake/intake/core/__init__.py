"""Pure core of intake: the Case aggregate and `decide` over the shared lifecycles (no I/O but data files)."""

from intake.core.account import Account, load_seed_accounts
from intake.core.case import Case
from intake.core.decide import decide
from intake.core.lifecycles import LifecycleError, load_lifecycle_file, load_lifecycles
from intake.core.results import Accepted, Refused

__all__ = [
    "Accepted",
    "Account",
    "Case",
    "LifecycleError",
    "Refused",
    "decide",
    "load_lifecycle_file",
    "load_lifecycles",
    "load_seed_accounts",
]
