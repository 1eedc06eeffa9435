"""Envelope models of the approval messages, for the AsyncAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field

from shared.contract.approval import APPROVAL_COMMAND_TYPES, APPROVAL_EVENT_TYPES
from shared.contract.catalog import envelope_model
from shared.contract.commands import COMMAND_TYPES


def _union(registry: dict, suffix: str) -> Any:
    models = tuple(envelope_model(t, m, suffix) for t, m in registry.items())
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007 (a runtime tuple)


APPROVAL_COMMAND_ENVELOPE = _union(APPROVAL_COMMAND_TYPES, "Command")
APPROVAL_EVENT_ENVELOPE = _union(APPROVAL_EVENT_TYPES, "Event")
RECORD_APPROVAL_ENVELOPE = envelope_model("case.record_approval", COMMAND_TYPES["case.record_approval"], "Command")
