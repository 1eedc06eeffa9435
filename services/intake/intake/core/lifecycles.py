"""The shared lifecycle files as intake reads them: also checked against intake's own vocabulary."""

from __future__ import annotations

from pathlib import Path

from intake.core.case import Case
from intake.core.guards import EFFECTS, GUARDS
from intake.core.loader import load_trigger_rules
from intake.core.on_open import OPEN_EFFECTS
from intake.core.trigger_rules import KNOWN_TRIGGERS
from shared.lifecycles import Lifecycle, LifecycleError
from shared.lifecycles import load_lifecycle_file as _load_file
from shared.lifecycles import load_lifecycles as _load_all

__all__ = ["LifecycleError", "check_vocabulary", "load_lifecycle_file", "load_lifecycles"]


def check_vocabulary(lc: Lifecycle) -> list[str]:
    """Problems with the names a lifecycle gives intake: guards, effects, triggers, case attributes."""
    p: list[str] = []
    for i, t in enumerate(lc.transitions):
        where = f"transition #{i + 1} ({','.join(t.from_)} -> {t.to})"
        p += [f"{where}: unknown guard {g!r}" for g in t.guards if g not in GUARDS]
        p += [f"{where}: unknown effect {e!r}" for e in t.effects if e not in EFFECTS]
        if t.mode == "automatic" and t.trigger and t.trigger not in KNOWN_TRIGGERS:
            p.append(f"{where}: unknown trigger {t.trigger!r} (known: {sorted(KNOWN_TRIGGERS)})")
    for sec in lc.sections:
        p += [f"section {sec.code}: unknown field {r!r}" for r in sec.fields
              if not r.startswith("fields.") and r not in Case.model_fields]
    p += [f"on_open: unknown effect {e!r} (known: {sorted(OPEN_EFFECTS)})" for e in lc.on_open if e not in OPEN_EFFECTS]
    p += [f"advice {a.code}: unknown guard {a.unless!r}" for a in lc.advice if a.unless not in GUARDS]
    return p


_CHECKS = (check_vocabulary,)


def load_lifecycle_file(path: Path) -> Lifecycle:
    """One lifecycle file, validated as the contract says and against intake's vocabulary."""
    return _load_file(path, _CHECKS)


def load_lifecycles(directory: Path | None = None) -> dict[str, Lifecycle]:
    """All lifecycles keyed by case type, checked for intake; cached (raises LifecycleError)."""
    load_trigger_rules()  # lifecycles name its triggers: a broken table fails as early as a broken lifecycle
    return _load_all(directory, _CHECKS)
