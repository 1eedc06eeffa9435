"""Read models over HTTP (FastStream ASGI handlers) and the small router that gives them path parameters."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.asgi import AsgiResponse, get

from routing.ports.store import RoutingStore
from routing.service import RulesInForce
from shared.directory import Directory

Route = tuple[str, Any]


def _json(body: Any, status: int = 200) -> AsgiResponse:
    return AsgiResponse(json.dumps(body, default=str).encode(), status, headers={"content-type": "application/json"})


def _param(scope: Any, name: str) -> str:
    return scope.get("path_params", {}).get(name, "")


def read_routes(store: RoutingStore, rules: RulesInForce, directory: Directory) -> list[Route]:
    """GET /people/{person_id}/cases, /people/{person_id}/available, /queues/{queue}/backlog, /cases/{case_id}/routing, /rules."""

    @get(description="'My cases': the open cases a person is responsible for, oldest first.")
    async def my_cases(scope: Any) -> AsgiResponse:
        person = _param(scope, "person_id")
        if directory.get(person) is None:
            return _json({"error": f"{person} is not in the people directory"}, 404)
        cases = await store.open_cases(person)
        return _json({"person": person, "count": len(cases), "cases": [c.summary() for c in cases]})

    @get(description="Available cases: nobody's yet, in the queues of the person's groups, oldest first.")
    async def available(scope: Any) -> AsgiResponse:
        person = directory.get(_param(scope, "person_id"))
        if person is None:
            return _json({"error": f"{_param(scope, 'person_id')} is not in the people directory"}, 404)
        queues = (await rules.get()).queues_of(person.groups)
        cases = await store.available(queues) if queues else []
        return _json({"person": person.id, "queues": queues, "count": len(cases), "cases": [c.summary() for c in cases]})

    @get(description="A queue's backlog: its open cases, the ones nobody has taken first.")
    async def backlog(scope: Any) -> AsgiResponse:
        queue = _param(scope, "queue")
        if queue not in (await rules.get()).queues:
            return _json({"error": f"queue {queue} does not exist"}, 404)
        cases = await store.in_queue(queue)
        waiting = [c.summary() for c in cases if c.assignee is None]
        taken = [c.summary() for c in cases if c.assignee is not None]
        return _json({"queue": queue, "count": len(waiting), "cases": waiting, "taken": taken})

    @get(description="Why the case went where it went: every routing decision with rule set version and rule.")
    async def decisions(scope: Any) -> AsgiResponse:
        found = await store.decisions(_param(scope, "case_id"))
        if found is None:
            return _json({"error": "unknown case"}, 404)
        return _json({"case_id": _param(scope, "case_id"), "decisions": found})

    @get(description="The routing rule set in force.")
    async def current_rules(scope: Any) -> AsgiResponse:  # noqa: ARG001
        return _json((await rules.get()).model_dump(mode="json"))

    return [("/people/{person_id}/cases", my_cases), ("/people/{person_id}/available", available),
            ("/queues/{queue}/backlog", backlog), ("/cases/{case_id}/routing", decisions), ("/rules", current_rules)]


class PathParams:
    """ASGI wrapper: requests matching a `{param}` template go to its handler, everything else to the app.

    FastStream's ASGI app matches paths exactly, so templates are resolved here.
    """

    def __init__(self, app: Any, routes: list[Route]) -> None:
        self.app = app
        self._routes = [(re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", p) + "$"), h)
                        for p, h in routes if "{" in p]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope.get("type") == "http":
            for pattern, handler in self._routes:
                found = pattern.match(scope["path"])
                if found:
                    await handler({**scope, "path_params": found.groupdict()}, receive, send)
                    return
        await self.app(scope, receive, send)
