"""Read side over HTTP: the deliveries of a case (who was told what, and how it went)."""

from __future__ import annotations

from typing import Any, Protocol

from faststream.asgi import AsgiResponse

from shared.runtime.http import Request, Route, json_response


class DeliveryReader(Protocol):
    """What the route needs from the store."""

    async def for_case(self, case_id: str) -> list[dict[str, Any]]:
        """Deliveries of a case, oldest first, without the mail bodies."""


def deliveries_routes(store: DeliveryReader) -> list[Route]:
    """GET /deliveries?case_id=X."""

    async def deliveries(request: Request) -> AsgiResponse:
        """Deliveries of one case (query `case_id`): recipient, role, template, state, attempts, error."""
        case_id = request.query.get("case_id", "")
        if not case_id:
            return json_response({"error": "query parameter case_id is required"}, 400)
        return json_response(await store.for_case(case_id))

    return [("GET", "/deliveries", deliveries)]
