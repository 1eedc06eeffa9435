"""Read models over HTTP, for staff only: a FastAPI router for `create_app(routers=...)`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path

from routing.ports.store import RoutingStore
from routing.adapters.outbound.cached import RulesInForce
from shared.auth import Auth
from shared.directory import Directory

Id = Annotated[str, Path(min_length=1, max_length=200)]
_ERRORS: dict[int | str, dict[str, Any]] = {401: {"description": "No valid bearer token"},
                                            403: {"description": "Not staff"}, 404: {"description": "Not found"}}


def read_routes(store: RoutingStore, rules: RulesInForce, directory: Directory, auth: Auth) -> APIRouter:
    """GET /people/{person_id}/cases, /people/{person_id}/available, /queues/{queue}/backlog, /cases/{case_id}/routing, /rules."""
    router = APIRouter(tags=["routing"], dependencies=[Depends(auth.staff)], responses=_ERRORS)

    @router.get("/people/{person_id}/cases", summary="My cases")
    async def my_cases(person_id: Id) -> dict[str, Any]:
        """'My cases': the open cases a person is responsible for, oldest first."""
        if directory.get(person_id) is None:
            raise HTTPException(404, f"{person_id} is not in the people directory")
        cases = await store.open_cases(person_id)
        return {"person": person_id, "count": len(cases), "cases": [c.summary() for c in cases]}

    @router.get("/people/{person_id}/available", summary="Available cases")
    async def available(person_id: Id) -> dict[str, Any]:
        """Available cases: nobody's yet, in the queues of the person's groups, oldest first."""
        person = directory.get(person_id)
        if person is None:
            raise HTTPException(404, f"{person_id} is not in the people directory")
        queues = (await rules.get()).queues_of(person.groups)
        cases = await store.available(queues) if queues else []
        return {"person": person.id, "queues": queues, "count": len(cases), "cases": [c.summary() for c in cases]}

    @router.get("/queues/{queue}/backlog", summary="A queue's backlog")
    async def backlog(queue: Id) -> dict[str, Any]:
        """A queue's backlog: its open cases, the ones nobody has taken first."""
        if queue not in (await rules.get()).queues:
            raise HTTPException(404, f"queue {queue} does not exist")
        cases = await store.in_queue(queue)
        waiting = [c.summary() for c in cases if c.assignee is None]
        taken = [c.summary() for c in cases if c.assignee is not None]
        return {"queue": queue, "count": len(waiting), "cases": waiting, "taken": taken}

    @router.get("/cases/{case_id}/routing", summary="Why a case went where it went")
    async def decisions(case_id: Id) -> dict[str, Any]:
        """Every routing decision of the case, with rule set version and rule."""
        found = await store.decisions(case_id)
        if found is None:
            raise HTTPException(404, "unknown case")
        return {"case_id": case_id, "decisions": found}

    @router.get("/rules", summary="The routing rules in force")
    async def current_rules() -> dict[str, Any]:
        """The routing rule set in force."""
        return (await rules.get()).model_dump(mode="json")

    return router


def document() -> list[APIRouter]:
    """The router without a store, for the OpenAPI document."""
    return [read_routes(None, None, None, Auth(None, quiet=True))]  # type: ignore[arg-type]  # nothing is called
