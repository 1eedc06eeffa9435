"""Envelope models per message type, built from the registries; they document the contract (AsyncAPI)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, TypeAdapter, create_model

from shared.contract.commands import COMMAND_TYPES
from shared.contract.envelope import CloudEvent
from shared.contract.events import EVENT_TYPES
from shared.contract.rejections import REJECTION_TYPE, CommandRejected


def _pascal(type_: str) -> str:
    return "".join(part.capitalize() for part in type_.replace(".", "_").split("_"))


def envelope_model(type_: str, data: type[BaseModel], suffix: str) -> type[CloudEvent]:
    """A CloudEvent whose `type` is fixed and whose `data` is `data`."""
    return create_model(
        f"{_pascal(type_)}{suffix}",
        __base__=CloudEvent,
        __doc__=(data.__doc__ or type_).strip().splitlines()[0],
        type=(Literal[type_], Field(description=f"Always `{type_}`.")),
        data=(data, Field(description="Payload of this message type.")),
    )


def _union(registry: dict[str, type[BaseModel]], suffix: str) -> Any:
    models = tuple(envelope_model(t, m, suffix) for t, m in registry.items())
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007 (a runtime tuple)


CommandEnvelope = _union(COMMAND_TYPES, "Command")
"""Any command accepted on `case.commands`, discriminated by `type`."""

EventEnvelope = _union(EVENT_TYPES, "Event")
"""Any event published on `case.events`, discriminated by `type`."""

CommandRejectedEnvelope = envelope_model(REJECTION_TYPE, CommandRejected, "Record")
"""The record published on `case.rejections`."""


@cache
def command_json_schema() -> dict:
    """JSON schema of every command envelope (for tools outside FastStream)."""
    return TypeAdapter(CommandEnvelope).json_schema()
