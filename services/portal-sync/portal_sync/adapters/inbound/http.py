"""The portal's HTTP read side and customer messages: a FastAPI router for `create_app(routers=...)`.

A customer's token shows only their own account's cases and posts messages only on them, under their own
id; staff (the directory's people) may read any account but not speak as a customer.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures, and they name local dependencies.
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from portal_sync.adapters.inbound.messages import CustomerMessages
from portal_sync.ports.store import ProjectionStore
from shared.auth import Auth, Principal, forbidden, require_customer

Id = Annotated[str, Path(min_length=1, max_length=200)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token"}, 403: {"description": "Another account's case, or not a customer"},
    404: {"description": "The portal shows no such case"}}


class MessageIn(BaseModel):
    """A customer's message; the author is the token's subject (a `customer_id`, if sent, must be the same)."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=20_000, description="What the customer wrote.")
    message_id: str | None = Field(None, min_length=1, max_length=200,
                                   description="The portal's id of the message; a retry with it sends the same command.")
    customer_id: str | None = Field(None, max_length=200, description="Optional; must be the caller's own id.")


def portal_routes(store: ProjectionStore, messages: CustomerMessages, auth: Auth) -> APIRouter:
    """GET /cases/{case_id}, GET /accounts/{account_id}/cases, POST /cases/{case_id}/messages."""
    router = APIRouter(tags=["portal"], responses=_ERRORS)
    Caller = Annotated[Principal, Depends(auth.principal)]

    async def visible(case_id: str, caller: Principal) -> Any:
        active = await store.active()
        stored = await store.get(active.number, case_id) if active else None
        # Another account's case is answered like a missing one: its existence is not the customer's business.
        if stored is None or not caller.may_see_account(stored.state.record.account_id):
            raise HTTPException(404, f"The portal shows no case {case_id}.")
        return stored.state.record

    @router.get("/cases/{case_id}", summary="One case as the portal shows it")
    async def case(case_id: Id, caller: Caller) -> dict[str, Any]:
        """One case as the portal shows it (a customer: only their account's)."""
        return (await visible(case_id, caller)).model_dump(mode="json")

    @router.get("/accounts/{account_id}/cases", summary="An account's cases")
    async def account(account_id: Id, caller: Caller) -> dict[str, Any]:
        """An account's cases, most recently changed first (a customer: only their own account)."""
        if not caller.may_see_account(account_id):
            raise forbidden("a customer sees only their own account's cases")
        active = await store.active()
        states = await store.by_account(active.number, account_id) if active else []
        records = sorted((s.record for s in states), key=lambda r: r.changed_at, reverse=True)  # times, not their text
        return {"account_id": account_id, "cases": [r.model_dump(mode="json") for r in records]}

    @router.post("/cases/{case_id}/messages", status_code=202, summary="A customer's message on a case",
                 responses={409: {"description": "The case is closed"}})
    async def message(case_id: Id, body: MessageIn, caller: Caller) -> JSONResponse:
        """A customer's message on their account's case, sent to intake as a command; 202 with the command id."""
        require_customer(caller)
        if body.customer_id not in (None, caller.id):
            raise forbidden("customer_id must be your own id")
        await visible(case_id, caller)
        reply = await messages.post(case_id, {**body.model_dump(exclude_none=True), "customer_id": caller.id})
        return JSONResponse(reply.body, reply.status)

    return router


def document() -> list[APIRouter]:
    """The router without a store, for the OpenAPI document."""
    return [portal_routes(None, None, Auth(None, quiet=True))]  # type: ignore[arg-type]  # nothing is called
