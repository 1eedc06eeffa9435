"""Read side over HTTP, for staff: the deliveries of a case (who was told what, and how it went).

What goes out is an allow-list of fields: never the mail bodies nor the link, which for an approval
carries the approver's signed token (HTTP access alone would let anyone approve).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query

from shared.auth import Auth

DELIVERY_FIELDS = ("id", "event_id", "event_type", "case_id", "recipient", "role", "template", "state", "reason",
                   "attempts", "strikes", "next_attempt_at", "last_error", "created_at", "finished_at")
MAIL_FIELDS = ("to", "subject", "message_id")  # not text, html or link: they hold the approval token


class DeliveryReader(Protocol):
    """What the route needs from the store."""

    async def for_case(self, case_id: str) -> list[dict[str, Any]]:
        """Deliveries of a case, oldest first, without the mail bodies."""


def redacted(delivery: dict[str, Any]) -> dict[str, Any]:
    """The delivery as the read side shows it: the allowed fields only."""
    shown = {k: delivery[k] for k in DELIVERY_FIELDS if k in delivery}
    mail = delivery.get("mail")
    shown["mail"] = {k: mail[k] for k in MAIL_FIELDS if k in mail} if isinstance(mail, dict) else None
    return shown


def deliveries_routes(store: DeliveryReader, auth: Auth) -> APIRouter:
    """GET /deliveries?case_id=X, for staff."""
    router = APIRouter(tags=["notifier"], dependencies=[Depends(auth.staff)],
                       responses={401: {"description": "No valid bearer token"}, 403: {"description": "Not staff"}})

    @router.get("/deliveries", summary="Deliveries of one case")
    async def deliveries(case_id: Annotated[str, Query(min_length=1, max_length=200)]) -> list[dict[str, Any]]:
        """Deliveries of one case: recipient, role, template, state, attempts, error (no mail body, no link)."""
        return [redacted(d) for d in await store.for_case(case_id)]

    return router


def document() -> list[APIRouter]:
    """The router without a store, for the OpenAPI document."""
    return [deliveries_routes(None, Auth(None, quiet=True))]  # type: ignore[arg-type]  # nothing is called
