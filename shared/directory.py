"""The people directory: who is who, their e-mail, roles, groups and manager (data, not code)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "people.yaml"


class Person(BaseModel):
    """A person who can be assigned, approve or be notified."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Stable person id, as in `actor.id`.")
    name: str = Field(description="Display name.")
    email: str = Field(description="Where notifications go.")
    roles: list[str] = Field(default_factory=list, description="Roles held, as in `actor.roles`.")
    groups: list[str] = Field(default_factory=list, description="Teams/queues the person belongs to.")
    manager: str | None = Field(None, description="Person id of the manager (escalations, reassignments).")


class Directory(BaseModel):
    """All people, with lookups by id, role and group."""

    version: int = 1
    people: list[Person]

    def get(self, person_id: str) -> Person | None:
        """The person with that id."""
        return next((p for p in self.people if p.id == person_id), None)

    def with_role(self, role: str) -> list[Person]:
        """Everyone holding `role`."""
        return [p for p in self.people if role in p.roles]

    def in_group(self, group: str) -> list[Person]:
        """Everyone in `group`."""
        return [p for p in self.people if group in p.groups]


@lru_cache(maxsize=4)
def load_directory(path: str | None = None) -> Directory:
    """The directory from PEOPLE_FILE (or the sample shipped in shared/data)."""
    file = Path(path or os.environ.get("PEOPLE_FILE") or DEFAULT_FILE)
    return Directory.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
