"""The part of a case an approver reads before deciding, kept from intake's case events (pure, bounded)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

SHOWN = ("subject", "description", "feasibility_conclusion")  # text fields followed through `case.updated`
NAME_CHARS = 255  # a product's display name; with the limits below the content stays around 0.5 MB at most


@dataclass(frozen=True)
class Bounds:
    """How much of a case the approval state keeps: the shared limits (`Limits.text_chars`, `list_items`)."""

    text_chars: int = 20_000
    list_items: int = 1_000

    def text(self, value: Any) -> str | None:
        """A string cut to `text_chars` (None stays None)."""
        return None if value is None else str(value)[: self.text_chars]

    def name(self, value: Any) -> str | None:
        """A display name cut to NAME_CHARS."""
        return None if value is None else str(value)[:NAME_CHARS]


class Product(BaseModel):
    """A related product as the approver sees it."""

    product_id: str
    name: str | None = None


class CaseContent(BaseModel):
    """Subject, account, description, products, feasibility conclusion and requester of the case."""

    subject: str | None = None
    description: str | None = None
    account_name: str | None = None
    feasibility_conclusion: str | None = None
    registered_by: str | None = Field(None, description="Who opened the case (the requester of seed 001).")
    products: list[Product] = Field(default_factory=list)
    product_count: int = 0


def from_snapshot(case: dict[str, Any], bounds: Bounds) -> CaseContent:
    """The content of a `case.opened` snapshot (the intake case as JSON)."""
    products = [Product(product_id=str(p.get("product_id")), name=bounds.name(p.get("name")))
                for p in (case.get("related_products") or []) if isinstance(p, dict) and p.get("product_id")]
    return CaseContent(
        subject=bounds.text(case.get("subject")), description=bounds.text(case.get("description")),
        account_name=bounds.name((case.get("account") or {}).get("name")),
        feasibility_conclusion=bounds.text(case.get("feasibility_conclusion")),
        registered_by=bounds.name((case.get("created_by") or {}).get("id")),
        products=products[: bounds.list_items], product_count=int(case.get("related_product_count") or len(products)))


def updated(content: CaseContent, changes: list[Any], bounds: Bounds) -> CaseContent:
    """A `case.updated`: the shown text fields that changed (others are not kept)."""
    new = content.model_copy(deep=True)
    for change in changes:
        if change.field in SHOWN:
            setattr(new, change.field, bounds.text(change.after))
    return new


def product_changed(content: CaseContent, added: bool, product_id: str, name: str | None, count: int,
                    bounds: Bounds) -> CaseContent:
    """A product added or removed; the list keeps at most `list_items`, the count is intake's."""
    new = content.model_copy(deep=True)
    new.products = [p for p in new.products if p.product_id != product_id]
    if added and len(new.products) < bounds.list_items:
        new.products.append(Product(product_id=product_id, name=bounds.name(name)))
    new.product_count = count
    return new
