"""A command handler that first replaces the message's actor by the one its principal may speak for."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from shared.contract.envelope import CloudEvent
from shared.directory import Directory
from shared.identity import Forbidden, require_roles, verified_actor, with_actor
from shared.principals import Principals, load_principals
from shared.runtime.consumer import Handler, IngressHandler, MalformedHandler
from shared.runtime.inbound import Malformed

FORBIDDEN = "forbidden"


def forbidden(command: CloudEvent, reason: str) -> Malformed:
    """A refusal `forbidden` for `command`, through the service's malformed-record path (one rejection)."""
    claimed = command.data.get("actor") if isinstance(command.data, dict) else None
    actor_id = claimed.get("id") if isinstance(claimed, dict) and isinstance(claimed.get("id"), str) else None
    return Malformed(reason, command_id=command.id, case_id=command.subject, type=command.type,
                     actor_id=actor_id, code=FORBIDDEN)


def verified(handle: Handler, refuse: MalformedHandler, directory: Callable[[], Directory], kind: str,
             principals: Principals | None = None) -> IngressHandler:
    """`handle(command)` with `data.actor` the verified actor (roles from the directory), else refused `forbidden`.

    For `subscribe(broker, topics.ingress(kind), ...)`: the consumer says which principal wrote the topic.
    """
    policy = principals or load_principals()

    async def call(command: CloudEvent, principal: str) -> str:
        data = command.data if isinstance(command.data, dict) else {}
        try:
            actor = verified_actor(principal, data.get("actor"), directory(), policy, kind=kind)
            require_roles(command.type, actor, policy)
        except Forbidden as no:
            structlog.get_logger().warning("command.forbidden", principal=principal, reason=str(no))
            await refuse(forbidden(command, str(no)))
            return "rejected"
        return await handle(command.model_copy(update={"data": with_actor(data, actor)}))

    return call
