"""Who a command is from: the actor a verified principal may speak for, with roles from the directory."""

from __future__ import annotations

from typing import Any

from shared.contract.envelope import Actor
from shared.directory import Directory
from shared.principals import CUSTOMERS, STAFF, Principals


class Forbidden(Exception):
    """The principal may not speak for the actor the command names (or the actor lacks a needed role)."""


def has_role(actor: Actor, roles: list[str] | set[str]) -> bool:
    """True when the (verified) actor holds one of `roles`; an actor id equal to a role name is not a role."""
    return "*" in roles or bool(set(actor.roles) & set(roles))


def verified_actor(principal: str, claimed: Any, directory: Directory, principals: Principals,
                   account_id: str | None = None, kind: str = "case_commands") -> Actor:
    """The actor `principal` speaks for, its roles from the directory; raise Forbidden otherwise.

    `claimed` is the message's `data.actor` (only its id is read). `account_id`: the account of the case the
    command is about, when known; a customer may only speak about their own account's cases. `kind`: the
    command topic it came on (`case_commands`, `approval_commands`, `routing_commands`).
    """
    actor_id = claimed.get("id") if isinstance(claimed, dict) else None
    if not isinstance(actor_id, str) or not actor_id:
        raise Forbidden("The command names no actor (data.actor.id).")
    sender = principals.senders.get(principal)
    if sender is None:
        raise Forbidden(f"Principal {principal} may not send commands.")
    person = directory.get(actor_id)
    for kind_of_actor in sender.speaks_for_on(kind):
        if kind_of_actor == actor_id and person is None:  # a system actor: its one role is its own id
            return Actor(id=actor_id, roles=[actor_id, *principals.system_roles.get(actor_id, [])])
        if kind_of_actor == STAFF and person is not None and not person.is_customer:
            return Actor(id=actor_id, roles=list(person.roles))
        if kind_of_actor == CUSTOMERS and person is not None and person.is_customer:
            if account_id is not None and person.account_id != account_id:
                raise Forbidden(f"{actor_id} is a customer of another account than {account_id}.")
            return Actor(id=actor_id, roles=list(person.roles))
    raise Forbidden(f"Principal {principal} may not speak for {actor_id!r} (it speaks for: "
                    f"{', '.join(sender.speaks_for_on(kind))}).")


def require_roles(command_type: str, actor: Actor, principals: Principals) -> None:
    """Raise Forbidden when `command_type` needs a directory role (`command_roles`) the actor lacks."""
    needed = principals.command_roles.get(command_type)
    if needed and not has_role(actor, needed):
        raise Forbidden(f"Only {', '.join(needed)} may send {command_type}; {actor.id} holds "
                        f"{', '.join(actor.roles) or 'no role'}.")


def with_actor(data: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """The command's data with the claimed actor replaced by the verified one."""
    return {**data, "actor": actor.model_dump()}
