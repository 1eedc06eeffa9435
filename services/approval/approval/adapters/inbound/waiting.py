"""GET /approvals/waiting: the open approval steps in which the signed-in person may decide (staff bearer token)."""

# No `from __future__ import annotations`: FastAPI reads these signatures, and they name local dependencies.
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from approval.core import Linker
from approval.core.views import waiting_for
from approval.ports.store import ApprovalStore
from shared.auth import Auth
from shared.auth.principal import Principal

MOST = 200  # a person with more open steps than this sees the oldest ones first


class WaitingItem(BaseModel):
    """One open step the person may decide in."""

    case_id: str
    approval_id: str
    step: str
    case_type: str | None
    gbu: str | None
    subject: str | None = Field(description="The case's subject, as the last case event approval followed said it.")
    opened_at: str | None
    escalate_at: str | None
    link: str = Field(description="A freshly signed approval link for this person (`/approvals/{token}`).")


class Waiting(BaseModel):
    """Approvals waiting for the signed-in person, oldest first."""

    items: list[WaitingItem]


def waiting_routes(store: ApprovalStore, linker: Linker, auth: Auth, most: int = MOST) -> APIRouter:
    """The router of GET /approvals/waiting (declared before the link routes: `waiting` is no token)."""
    router = APIRouter(tags=["approvals"], responses={401: {"description": "No valid bearer token"},
                                                      403: {"description": "Not staff (customers are refused)"}})

    @router.get("/approvals/waiting", summary="The open approval steps in which the signed-in person may decide",
                response_model=Waiting)
    async def waiting(caller: Annotated[Principal, Depends(auth.staff)]) -> dict[str, Any]:
        """As approver, delegate, out-of-office stand-in or escalation target; each with its own link."""
        return {"items": waiting_for(caller.id, await store.waiting_for(caller.id, most), linker)}

    return router
