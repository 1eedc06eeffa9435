"""Read side over HTTP: the deliveries of a case (who was told what, and how it went)."""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import parse_qs

from faststream.asgi import AsgiResponse, get

JSON = {"content-type": "application/json"}


class DeliveryReader(Protocol):
    """What the route needs from the store."""

    async def for_case(self, case_id: str) -> list[dict[str, Any]]:
        """Deliveries of a case, oldest first, without the mail bodies."""


def deliveries_route(store: DeliveryReader) -> Any:
    """GET /deliveries?case_id=X."""

    @get(description="Deliveries of one case (query `case_id`): recipient, role, template, state, attempts, error.")
    async def deliveries(scope: Any) -> AsgiResponse:
        query = parse_qs((scope.get("query_string") or b"").decode())
        case_id = (query.get("case_id") or [""])[0]
        if not case_id:
            return AsgiResponse(b'{"error": "query parameter case_id is required"}', 400, headers=JSON)
        body = json.dumps(await store.for_case(case_id), default=str)
        return AsgiResponse(body.encode(), 200, headers=JSON)

    return deliveries
