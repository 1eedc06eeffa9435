"""The sales pipeline: open sales cases per GBU and stage, with expected revenue and revenue × chance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

REVENUE, CHANCE = "expected_revenue", "probability"  # the sales lifecycle's fields (probability in %)


@dataclass
class PipelineRow:
    """One GBU and stage: how many cases, their expected revenue and that revenue weighted by the chance."""

    gbu: str
    stage: str
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
    """Rows per (GBU, stage = status), sorted by GBU then stage; a case without a revenue still counts."""
    rows: dict[tuple[str, str], PipelineRow] = {}
    for case in cases:
        gbu, stage = str(case.get("gbu") or "—"), str(case.get("status") or "—")
        row = rows.setdefault((gbu, stage), PipelineRow(gbu, stage))
        row.count += 1
        fields = case.get("fields") or {}
        revenue = _number(fields.get(REVENUE))
        if revenue is None:
            row.without_figures += 1
            continue
        row.expected_revenue += revenue
        row.weighted_revenue += revenue * chance_of(fields.get(CHANCE))
    return [rows[key] for key in sorted(rows)]
