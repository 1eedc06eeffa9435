"""The live people directory: upserts replace people in place, a store's copy survives restarts, events are followed."""

from __future__ import annotations

from shared.contract.envelope import new_event
from shared.directory import LiveDirectory, Person, load_directory
from shared.runtime.people import FollowedDirectory

RITA = Person(id="new.rita", name="Rita New", email="rita@example.com", roles=["sales_rep"])


class MemoryPeople:
    """A PeopleStore in a dict."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}

    async def all(self) -> list[Person]:
        return [self.people[k] for k in sorted(self.people)]

    async def save(self, person: Person) -> None:
        self.people[person.id] = person


def upserted(person: Person, **changes: object) -> object:
    return new_event("person.upserted", person.id, {**person.model_dump(), **changes}, source="/services/intake")


def test_an_upsert_replaces_the_whole_person_in_place_and_leaves_the_file_alone():
    live = LiveDirectory.from_file()
    order = [p.id for p in live.people]
    live.apply(Person(id="mary", name="Mary Jensen", email="mary@example.com", roles=["sales_manager"]))
    assert live.roles_of("mary") == ["sales_manager"] and live.get("mary").groups == []  # replaced, not merged
    assert [p.id for p in live.people] == order  # directory order kept (approver and routing picks)
    live.apply(RITA)
    assert live.with_role("sales_rep")[-1].id == "new.rita"
    assert load_directory().roles_of("mary") == ["sales_rep"] and load_directory().get("new.rita") is None


def test_reset_is_the_file_with_the_stored_upserts_on_top():
    live = LiveDirectory.from_file()
    live.apply(RITA)
    live.reset([Person(id="sam", name="Sam Berg", email="sam@example.com", roles=["admin"])])
    assert live.get("new.rita") is None and live.roles_of("sam") == ["admin"] and live.roles_of("mary") == ["sales_rep"]


async def test_a_followed_event_is_stored_applied_and_not_passed_on():
    store, passed = MemoryPeople(), []
    people = FollowedDirectory(store)
    holder = people.directory  # what a service core keeps: it sees the change without asking again

    async def service(event):
        passed.append(event.type)
        return "applied"

    handle = people.following(service)
    assert await handle(upserted(RITA)) == "person"
    assert await handle(new_event("case.opened", "C-1", {"x": 1}, source="/s")) == "applied"
    assert passed == ["case.opened"]
    assert holder.roles_of("new.rita") == ["sales_rep"] and people().get("new.rita") == RITA
    assert store.people == {"new.rita": RITA}


async def test_the_topic_order_wins_per_person():
    people = FollowedDirectory(MemoryPeople())
    handle = people.following(lambda event: None)
    await handle(upserted(RITA))
    await handle(upserted(RITA, roles=["tech_team"]))
    assert people().roles_of("new.rita") == ["tech_team"]


async def test_an_unreadable_person_event_is_skipped_not_fatal():
    people = FollowedDirectory(MemoryPeople())
    handle = people.following(lambda event: None)
    assert await handle(upserted(RITA, email=None)) == "unreadable"
    assert people().get("new.rita") is None


async def test_a_restart_or_another_replica_gets_the_upserts_from_the_store():
    store = MemoryPeople()
    await FollowedDirectory(store).following(lambda event: None)(upserted(RITA))
    other = FollowedDirectory(store)  # a restarted process, or a replica that did not consume the event
    assert other().get("new.rita") is None
    await other.refresh()
    assert other().roles_of("new.rita") == ["sales_rep"]


async def test_an_upsert_applied_while_a_refresh_reads_the_store_is_not_lost():
    class Slow(MemoryPeople):
        async def all(self) -> list[Person]:
            found = await super().all()
            people.apply(RITA)  # consumed while the store's answer was on its way
            return found

    people = FollowedDirectory(Slow())
    await people.refresh()
    assert people().roles_of("new.rita") == ["sales_rep"]
