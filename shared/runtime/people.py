"""A service's people directory kept current: the file, its store's copy, and each `person.upserted` on case.events."""

from __future__ import annotations

from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from shared.contract.envelope import CloudEvent
from shared.directory import Directory, LiveDirectory, Person
from shared.runtime.background import Loop
from shared.runtime.consumer import Handler

PERSON_UPSERTED = "person.upserted"
# Replicas share one consumer group, so only one of them consumes a given person.upserted: the others
# read it back from the service's store this often.
REFRESH_SECONDS = 5.0
_FIELDS = {name: 1 for name in Person.model_fields} | {"_id": 0}


class PeopleStore(Protocol):
    """Where a service keeps its copy of the upserted people (it survives restarts; replicas share it)."""

    async def all(self) -> list[Person]:
        """Every stored person."""

    async def save(self, person: Person) -> None:
        """Create or replace the entry of `person.id`."""


class MongoPeople:
    """A collection with one document per person id; only the Person fields are read (intake keeps more)."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    async def all(self) -> list[Person]:
        return [Person.model_validate(doc) async for doc in self._collection.find({}, _FIELDS).sort("_id", 1)]

    async def save(self, person: Person) -> None:
        await self._collection.update_one({"_id": person.id}, {"$set": person.model_dump(mode="json")}, upsert=True)


class FollowedDirectory:
    """One per process: `directory` starts as the file; `apply`, `following` and `refresh` keep it current.

    Call it (`people()`) wherever a `Callable[[], Directory]` is wanted; hand `directory` itself to code that
    keeps a Directory: it is changed in place, so every holder sees an upsert at once.
    """

    def __init__(self, store: PeopleStore | None = None, interval: float = REFRESH_SECONDS,
                 path: str | None = None) -> None:
        self.directory, self._store = LiveDirectory.from_file(path), store
        self.loop = Loop(self.refresh, interval, "directory_refresh")
        self._during_refresh: list[Person] | None = None
        self._log = structlog.get_logger().bind(component="directory")

    def __call__(self) -> Directory:
        return self.directory

    def apply(self, person: Person) -> None:
        """Apply an upsert this process stored or consumed."""
        self.directory.apply(person)
        if self._during_refresh is not None:  # the refresh's read may predate it: re-applied after the reset
            self._during_refresh.append(person)

    async def refresh(self) -> None:
        """The file with the store's copy on top (at start-up, then every interval: other replicas' upserts)."""
        if self._store is None:
            return
        self._during_refresh = []
        try:
            stored = await self._store.all()
            self.directory.reset(stored + self._during_refresh)
        finally:
            self._during_refresh = None

    def following(self, handle: Handler) -> Handler:
        """`handle` for a case.events subscriber, with `person.upserted` stored and applied instead of passed on."""

        async def call(event: CloudEvent) -> str:
            if event.type != PERSON_UPSERTED:
                return await handle(event)
            try:
                person = Person.model_validate(event.data)
            except ValidationError as exc:  # only intake writes case.events; a bad entry is logged, not fatal
                self._log.warning("directory.unreadable_person", event_id=event.id, error=str(exc))
                return "unreadable"
            if self._store is not None:
                await self._store.save(person)  # first, so a crash before the apply is redone from the topic
            self.apply(person)
            return "person"

        return call
