"""Validation of type-specific fields and causes against the lifecycle (no per-type code)."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.lifecycles import FieldSpec, Lifecycle


def _check(spec: FieldSpec, value: Any) -> tuple[Any, str | None]:
    # Returns the value to store (JSON-friendly: dates as ISO strings) or a problem.
    t = spec.type
    if t in ("string", "text", "enum"):
        if not isinstance(value, str):
            return None, f"{spec.name} must be text"
        if t == "enum" and value not in spec.values:
            return None, f"{spec.name} must be one of {', '.join(spec.values)}"
        return value, None
    if t == "boolean":
        return (value, None) if isinstance(value, bool) else (None, f"{spec.name} must be true or false")
    if t == "date":
        try:
            return (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat(), None
        except ValueError:
            return None, f"{spec.name} must be a date (YYYY-MM-DD)"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (t == "integer" and not isinstance(value, int)):
        return None, f"{spec.name} must be {'a whole number' if t == 'integer' else 'a number'}"
    if value != value or (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        return None, f"{spec.name} must be between {spec.min if spec.min is not None else '-inf'} and {spec.max if spec.max is not None else 'inf'}"
    return value, None


def merge_fields(lc: Lifecycle, current: dict[str, Any], given: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any], list[str]]:
    """Current fields updated with `given` (None removes a field), plus problems found."""
    specs = {f.name: f for f in lc.fields}
    out, problems = dict(current), []
    for name, value in given.items():
        spec = specs.get(name)
        if spec is None:
            known = ", ".join(specs) or "none"
            problems.append(f"{name} is not a field of {lc.a_label} (fields: {known})")
        elif value is None:
            out.pop(name, None)
        else:
            stored, problem = _check(spec, value)
            if problem:
                problems.append(problem)
            else:
                out[name] = stored
    missing = [s.name for s in lc.fields if s.required and out.get(s.name) is None]
    if missing and (creating or any(m in given for m in missing)):
        problems.append(f"required field(s) missing: {', '.join(missing)}")
    return out, problems


def with_defaults(lc: Lifecycle, gbu: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A new case's fields with the lifecycle's defaults (the GBU's first) for those not given."""
    out = dict(fields)
    for spec in lc.fields:
        value = spec.default_for(gbu)
        if value is not None and out.get(spec.name) is None:
            out[spec.name] = value
    return out


def check_cause(lc: Lifecycle, cause: str | None) -> str | None:
    """A problem with the cause, or None."""
    if cause is None:
        return None
    if not lc.causes:
        return f"{lc.a_label} has no cause; leave it out"
    if cause not in lc.causes:
        return f"cause must be one of {', '.join(lc.causes)}"
    return None
