"""Customer messages from the portal, relayed to intake as `case.add_customer_message` commands."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal_sync.ports.store import ProjectionStore
from shared.contract.envelope import derived_id, new_event
from shared.runtime.inbound import describe_validation_error
from shared.runtime.outbox import OutboxEntry, Publisher
from shared.settings import Topics

SOURCE = "/services/portal-sync"
COMMAND = "case.add_customer_message"


class PortalMessage(BaseModel):
    """The body of `POST /cases/{case_id}/messages`."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=20_000, description="What the customer wrote.")
    customer_id: str = Field(min_length=1, max_length=200, description="The portal user who wrote it.")
    message_id: str | None = Field(None, min_length=1, max_length=200,
                                   description="The portal's id of the message; a retry with it sends the same command.")


@dataclass(frozen=True)
class Reply:
    """HTTP status and JSON body."""

    status: int
    body: dict


class CustomerMessages:
    """Checks a portal message against the projection and sends it to intake."""

    def __init__(self, store: ProjectionStore, publisher: Publisher, topics: Topics,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._store, self._publisher, self._topics, self._new_id = store, publisher, topics, new_id

    async def post(self, case_id: str, body: object) -> Reply:
        """202 with the command id once the command is on `case.commands`; 4xx with a reason otherwise."""
        try:
            msg = PortalMessage.model_validate(body)
        except ValidationError as exc:
            return Reply(400, {"error": describe_validation_error(exc, "message")})
        active = await self._store.active()
        stored = await self._store.get(active.number, case_id) if active else None
        if stored is None:
            return Reply(404, {"error": f"The portal shows no case {case_id}."})
        if stored.state.record.portal_status == "Closed":
            return Reply(409, {"error": f"Case {case_id} is closed; open a new case instead."})
        # The customer's own id with the `customer` role: intake's lifecycles let the customer side add
        # messages, and only a customer's message counts as the customer's answer (response_received).
        actor = {"id": msg.customer_id, "roles": ["customer"]}
        # Scoped by case: a portal numbering messages per case must not make two cases' commands one id
        # (intake, and every id derived from the command's events, would take the second for the first).
        command_id = derived_id(f"{case_id}/{msg.message_id}", "portal-message") if msg.message_id else self._new_id()
        command = new_event(COMMAND, case_id, {"actor": actor, "message": msg.message}, source=SOURCE, id_=command_id)
        await self._publisher.publish([OutboxEntry.of(self._topics.case_commands, command)])
        return Reply(202, {"command_id": command_id, "case_id": case_id})
