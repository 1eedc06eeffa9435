"""Kafka principals that send commands: their ingress topics and the actors they may speak for (data)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "principals.yaml"
STAFF, CUSTOMERS = "staff", "customers"


class Sender(BaseModel):
    """A principal that sends commands: which command topics, and for whom."""

    model_config = ConfigDict(extra="forbid")

    sends: list[str] = Field(description="Command topics (Topics field names) it writes, each via its own ingress topic.")
    speaks_for: list[str] = Field(description="`staff`, `customers` or literal actor ids (its system actors).")
    also_on: dict[str, list[str]] = Field(default_factory=dict, description="More actors on one command topic only.")

    def speaks_for_on(self, kind: str) -> list[str]:
        """Whom it may speak for on the command topic `kind`."""
        return [*self.speaks_for, *self.also_on.get(kind, [])]


class Principals(BaseModel):
    """Every sending principal, and the directory roles some commands need."""

    model_config = ConfigDict(extra="forbid")

    senders: dict[str, Sender]
    command_roles: dict[str, list[str]] = Field(default_factory=dict)
    system_roles: dict[str, list[str]] = Field(default_factory=dict, description="A system actor's roles besides its id.")

    def senders_of(self, kind: str) -> list[str]:
        """Principals that write the command topic `kind` (e.g. `case_commands`)."""
        return sorted(name for name, s in self.senders.items() if kind in s.sends)

    def ingress(self, kind: str, base: str) -> dict[str, str]:
        """Ingress topic -> its one writing principal, for the command topic `kind` named `base`."""
        return {ingress_topic(base, name): name for name in self.senders_of(kind)}


def ingress_topic(base: str, principal: str) -> str:
    """The topic only `principal` may write commands of `base` to (ACL): `case.commands.crm`."""
    return f"{base}.{principal}"


@lru_cache(maxsize=4)
def load_principals(path: str | None = None) -> Principals:
    """The policy from PRINCIPALS_FILE (or the one shipped in shared/data)."""
    file = Path(path or os.environ.get("PRINCIPALS_FILE") or DEFAULT_FILE)
    return Principals.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
