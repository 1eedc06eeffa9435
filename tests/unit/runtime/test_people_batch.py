"""following_many: person upserts applied in their place in the batch, the other messages handed over in runs."""

from __future__ import annotations

from shared.contract.envelope import new_event
from shared.runtime.people import FollowedDirectory
from shared.runtime.people_batch import following_many
from shared.runtime.unit_of_work import Message


def msg(type_: str, key: str, data: dict | None = None) -> Message:
    return Message(new_event(type_, key, data or {}, source="/t"))


async def test_upserts_are_applied_between_the_runs_and_outcomes_keep_the_batch_order():
    people, runs = FollowedDirectory(), []

    async def many(messages):
        runs.append([m.key for m in messages])
        return [f"ok:{m.key}" for m in messages]

    person = {"id": "new.person", "name": "New Person", "email": "new.person@example.com"}
    handle = following_many(people, many)
    outcomes = await handle([msg("case.opened", "A"), msg("case.opened", "B"),
                             msg("person.upserted", "new.person", person), msg("case.opened", "C")])
    assert outcomes == ["ok:A", "ok:B", "person", "ok:C"] and runs == [["A", "B"], ["C"]]
    assert people().get("new.person") is not None
    assert await handle([msg("case.opened", "D")]) == ["ok:D"]
