"""Read models over HTTP, as routes for `create_app(http_routes=...)`."""

from __future__ import annotations

from faststream.asgi import AsgiResponse

from routing.ports.store import RoutingStore
from routing.service import RulesInForce
from shared.directory import Directory
from shared.runtime.http import Request, Route
from shared.runtime.http import json_response as _json


def read_routes(store: RoutingStore, rules: RulesInForce, directory: Directory) -> list[Route]:
    """GET /people/{person_id}/cases, /people/{person_id}/available, /queues/{queue}/backlog, /cases/{case_id}/routing, /rules."""

    async def my_cases(request: Request) -> AsgiResponse:
        """'My cases': the open cases a person is responsible for, oldest first."""
        person = request.params["person_id"]
        if directory.get(person) is None:
            return _json({"error": f"{person} is not in the people directory"}, 404)
        cases = await store.open_cases(person)
        return _json({"person": person, "count": len(cases), "cases": [c.summary() for c in cases]})

    async def available(request: Request) -> AsgiResponse:
        """Available cases: nobody's yet, in the queues of the person's groups, oldest first."""
        person = directory.get(request.params["person_id"])
        if person is None:
            return _json({"error": f"{request.params['person_id']} is not in the people directory"}, 404)
        queues = (await rules.get()).queues_of(person.groups)
        cases = await store.available(queues) if queues else []
        return _json({"person": person.id, "queues": queues, "count": len(cases), "cases": [c.summary() for c in cases]})

    async def backlog(request: Request) -> AsgiResponse:
        """A queue's backlog: its open cases, the ones nobody has taken first."""
        queue = request.params["queue"]
        if queue not in (await rules.get()).queues:
            return _json({"error": f"queue {queue} does not exist"}, 404)
        cases = await store.in_queue(queue)
        waiting = [c.summary() for c in cases if c.assignee is None]
        taken = [c.summary() for c in cases if c.assignee is not None]
        return _json({"queue": queue, "count": len(waiting), "cases": waiting, "taken": taken})

    async def decisions(request: Request) -> AsgiResponse:
        """Why the case went where it went: every routing decision with rule set version and rule."""
        found = await store.decisions(request.params["case_id"])
        if found is None:
            return _json({"error": "unknown case"}, 404)
        return _json({"case_id": request.params["case_id"], "decisions": found})

    async def current_rules(request: Request) -> AsgiResponse:
        """The routing rule set in force."""
        return _json((await rules.get()).model_dump(mode="json"))

    return [("GET", "/people/{person_id}/cases", my_cases), ("GET", "/people/{person_id}/available", available),
            ("GET", "/queues/{queue}/backlog", backlog), ("GET", "/cases/{case_id}/routing", decisions),
            ("GET", "/rules", current_rules)]
