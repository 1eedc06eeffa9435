"""The sales pipeline: open sales cases per GBU and stage, with expected revenue and revenue × chance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

REVENUE, CHANCE, CURRENCY = "expected_revenue", "probability", "currency"  # the sales lifecycle's fields (probability in %)


@dataclass
class PipelineRow:
    """One GBU, stage and currency: how many cases, their expected revenue and that revenue weighted by the chance."""

    gbu: str
    stage: str
    currency: str
    count: int = 0
    expected_revenue: float = 0.0
    weighted_revenue: float = 0.0
    without_figures: int = 0  # cases with no expected revenue yet (counted, add nothing)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def chance_of(value: Any) -> float:
    """The chance as a fraction of the `probability` field (a percentage, 0-100); missing or out of range: 0 or 1."""
    number = _number(value)
    if number is None or number < 0:
        return 0.0
    return min(number / 100, 1.0)


def pipeline(cases: Iterable[Mapping[str, Any]]) -> list[PipelineRow]:
    """Rows per (GBU, stage = status, currency), sorted; a case without a revenue still counts.

    Amounts in different currencies are never added up: there is no exchange rate in the backbone.
    """
    rows: dict[tuple[str, str, str], PipelineRow] = {}
    for case in cases:
        fields = case.get("fields") or {}
        key = (str(case.get("gbu") or "—"), str(case.get("status") or "—"), str(fields.get(CURRENCY) or "—"))
        row = rows.setdefault(key, PipelineRow(*key))
        row.count += 1
        revenue = _number(fields.get(REVENUE))
        if revenue is None:
            row.without_figures += 1
            continue
        row.expected_revenue += revenue
        row.weighted_revenue += revenue * chance_of(fields.get(CHANCE))
    return [rows[key] for key in sorted(rows)]
