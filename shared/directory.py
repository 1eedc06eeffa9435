"""The people directory: who is who, their e-mail, roles, groups and manager (data, not code)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

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
    account_id: str | None = Field(None, description="Set for a customer: the account they belong to (portal users).")

    @property
    def is_customer(self) -> bool:
        """A customer's contact (has an account), not staff."""
        return self.account_id is not None


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

    def roles_of(self, person_id: str) -> list[str]:
        """The roles the directory gives `person_id` (none for someone it does not know)."""
        person = self.get(person_id)
        return list(person.roles) if person else []

    def upserted(self, person: Person) -> "Directory":
        """A copy with `person` added or replaced (what a `person.upserted` event does to a directory copy)."""
        return Directory(version=self.version, people=_replaced(self.people, [person]))


def _replaced(people: list[Person], upserts: list[Person]) -> list[Person]:
    """`people` with each upsert replacing the entry of its id in place (directory order is kept), or appended."""
    out = {p.id: p for p in people}
    for person in upserts:
        out[person.id] = person  # a dict keeps the first insertion's position: a replaced person stays put
    return list(out.values())


class LiveDirectory(Directory):
    """A directory kept current in place: the file's people with every upsert on top (services hold this one)."""

    _base: list[Person] = PrivateAttr(default_factory=list)

    @classmethod
    def from_file(cls, path: str | None = None) -> "LiveDirectory":
        """Starts as the file (PEOPLE_FILE); the cached file directory itself is never changed."""
        base = load_directory(path)
        live = cls(version=base.version, people=list(base.people))
        live._base = list(base.people)
        return live

    def apply(self, person: Person) -> None:
        """An upsert replaces the whole person (roles included); the latest one applied wins."""
        self.people = _replaced(self.people, [person])

    def reset(self, upserts: list[Person]) -> None:
        """The file's people with `upserts` (a store's copy) on top, dropping what was applied before."""
        self.people = _replaced(self._base, upserts)


@lru_cache(maxsize=4)
def load_directory(path: str | None = None) -> Directory:
    """The directory from PEOPLE_FILE (or the sample shipped in shared/data)."""
    file = Path(path or os.environ.get("PEOPLE_FILE") or DEFAULT_FILE)
    return Directory.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
