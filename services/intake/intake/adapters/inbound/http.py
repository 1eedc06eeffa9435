"""Intake's HTTP read API (staff only): one case as its lifecycle lays it out, and the filtered case list."""

# No `from __future__ import annotations`: FastAPI reads these signatures, and they name local dependencies.
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from intake.adapters.inbound.http_models import CaseList, CaseView
from intake.core.case_view import case_view
from intake.core.listing import BadCursor, CaseFilter, Cursor, page
from intake.ports.reader import CaseReader
from shared.auth import Auth
from shared.directory import Directory
from shared.lifecycles import Lifecycle

Id = Annotated[str, Path(min_length=1, max_length=200)]
Text = Annotated[str | None, Query(min_length=1, max_length=200)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token"}, 403: {"description": "Not staff (customers are refused)"}}


def customers(directory: Callable[[], Directory]) -> Callable[[str], bool]:
    """`is_customer(actor_id)` from the (live) people directory: a person with an account is a customer."""

    def is_customer(actor_id: str) -> bool:
        person = directory().get(actor_id)
        return person is not None and person.is_customer

    return is_customer


def case_routes(reader: CaseReader, auth: Auth, lifecycles: Mapping[str, Lifecycle],
                is_customer: Callable[[str], bool]) -> APIRouter:
    """GET /cases/{case_id} and GET /cases, for staff."""
    router = APIRouter(tags=["cases"], responses=_ERRORS, dependencies=[Depends(auth.staff)])

    @router.get("/cases/{case_id}", summary="One case: sections, related lists, approval history, history",
                response_model=CaseView, responses={404: {"description": "No such case"}})
    async def case(case_id: Id) -> dict[str, Any]:
        """The case as intake keeps it, laid out by its lifecycle file's sections, with its full history."""
        found = await reader.case(case_id)
        if found is None:
            raise HTTPException(404, f"no case {case_id}")
        state, history = found
        return case_view(state, history, lifecycles.get(state.get("case_type", "")), is_customer)

    @router.get("/cases", summary="Cases, newest change first, filtered, a page at a time", response_model=CaseList,
                responses={400: {"description": "A cursor this API did not give out"}})
    async def cases(account: Text = None, type: Text = None, status: Text = None,  # noqa: A002  (the API's name)
                    assignee: Annotated[str | None, Query(min_length=1, max_length=200,
                                                          description="A person id, or `none` for unassigned cases")] = None,
                    gbu: Text = None, queue: Text = None,
                    open: Annotated[bool | None, Query(description="true: not in a closed status; false: closed")] = None,  # noqa: A002
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    cursor: Annotated[str | None, Query(max_length=2000, description="`next_cursor` of the page before")] = None,
                    ) -> dict[str, Any]:
        """A partner's history is this list for one account."""
        try:
            after = Cursor.decode(cursor) if cursor is not None else None
        except BadCursor as exc:
            raise HTTPException(400, str(exc)) from None
        where = CaseFilter(account, type, status, assignee, gbu, queue, open)
        return page(await reader.cases(where, after, limit + 1), limit)

    return router


def document() -> list[APIRouter]:
    """The router without a store, for the OpenAPI document."""
    return [case_routes(None, Auth(None, quiet=True), {}, lambda _: False)]  # type: ignore[arg-type]  # nothing is called
