"""The portal's HTTP read side, as routes for `create_app(http_routes=...)`."""

from __future__ import annotations

from faststream.asgi import AsgiResponse

from portal_sync.messages import CustomerMessages
from portal_sync.ports.store import ProjectionStore
from shared.runtime.http import Request, Route, json_response


def portal_routes(store: ProjectionStore, messages: CustomerMessages) -> list[Route]:
    """GET /cases/{case_id}, GET /accounts/{account_id}/cases, POST /cases/{case_id}/messages."""

    async def case(request: Request) -> AsgiResponse:
        """One case as the portal shows it."""
        case_id = request.params["case_id"]
        active = await store.active()
        stored = await store.get(active.number, case_id) if active else None
        if stored is None:
            return json_response({"error": f"The portal shows no case {case_id}."}, 404)
        return json_response(stored.state.record.model_dump(mode="json"))

    async def account(request: Request) -> AsgiResponse:
        """An account's cases, most recently changed first."""
        account_id = request.params["account_id"]
        active = await store.active()
        states = await store.by_account(active.number, account_id) if active else []
        records = sorted((s.record for s in states), key=lambda r: r.changed_at, reverse=True)  # times, not their text
        return json_response({"account_id": account_id, "cases": [r.model_dump(mode="json") for r in records]})

    async def message(request: Request) -> AsgiResponse:
        """A customer's message on a case, sent to intake as a command."""
        try:
            body = await request.json()
        except ValueError:
            return json_response({"error": "The body must be JSON: {\"message\": ..., \"customer_id\": ...}."}, 400)
        reply = await messages.post(request.params["case_id"], body)
        return json_response(reply.body, reply.status)

    return [("GET", "/cases/{case_id}", case), ("GET", "/accounts/{account_id}/cases", account),
            ("POST", "/cases/{case_id}/messages", message)]
