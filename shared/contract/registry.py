"""Every message type of the contract, its kind and topic: the source of docs/schemas/ and of the AsyncAPI fixes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field

from shared.contract.approval import APPROVAL_COMMAND_TYPES, APPROVAL_EVENT_TYPES
from shared.contract.catalog import envelope_model
from shared.contract.commands import COMMAND_TYPES
from shared.contract.envelope import CloudEvent
from shared.contract.events import EVENT_TYPES
from shared.contract.notification import NOTIFICATION_TYPES
from shared.contract.portal import PORTAL_STATUS_TYPE, PortalCaseStatus
from shared.contract.rejections import REJECTION_TYPE, CommandRejected
from shared.contract.timeframes import TIMEFRAME_EVENT_TYPES

SUFFIX = {"command": "Command", "event": "Event", "record": "Record"}


@dataclass(frozen=True)
class MessageType:
    """One message type: its `type`, kind (command, event, record), the `Topics` field it travels on, its data model."""

    type: str
    kind: str
    topic: str
    data: type[BaseModel]

    @property
    def envelope(self) -> type[CloudEvent]:
        """The CloudEvent model of this type (its `data` validated by `data`)."""
        return envelope_model(self.type, self.data, SUFFIX[self.kind])


def _group(types: dict[str, type[BaseModel]], kind: str, topic: str) -> list[MessageType]:
    return [MessageType(t, kind, topic, model) for t, model in types.items()]


@cache
def message_types() -> tuple[MessageType, ...]:
    """Every command, event and record of the contract, in a stable order."""
    return (
        *_group(COMMAND_TYPES, "command", "case_commands"),
        *_group(EVENT_TYPES, "event", "case_events"),
        MessageType(REJECTION_TYPE, "record", "case_rejections", CommandRejected),
        *_group(APPROVAL_COMMAND_TYPES, "command", "approval_commands"),
        *_group(APPROVAL_EVENT_TYPES, "event", "approval_events"),
        MessageType(PORTAL_STATUS_TYPE, "record", "portal_case_status", PortalCaseStatus),
        *_group(NOTIFICATION_TYPES, "event", "notification_events"),
        *_group(TIMEFRAME_EVENT_TYPES, "event", "routing_events"),
    )


def topic_union(topic: str) -> Any:
    """The envelope union of every type on the `Topics` field `topic` (the bare CloudEvent when none is modelled)."""
    models = tuple(m.envelope for m in message_types() if m.topic == topic)
    if not models:
        return CloudEvent
    return Annotated[Union[models], Field(discriminator="type")] if len(models) > 1 else models[0]  # noqa: UP007
