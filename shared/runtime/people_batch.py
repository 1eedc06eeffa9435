"""`FollowedDirectory.following` for a batch handler: `person.upserted` applied, the rest handed over in batches."""

from __future__ import annotations

from collections.abc import Sequence

from shared.contract.envelope import CloudEvent
from shared.runtime.batch_path import ManyHandler
from shared.runtime.people import PERSON_UPSERTED, FollowedDirectory
from shared.runtime.unit_of_work import Message


async def _never(event: CloudEvent) -> str:
    raise AssertionError(f"only person.upserted goes this way, not {event.type}")


def following_many(people: FollowedDirectory, many: ManyHandler) -> ManyHandler:
    """`many` for a case.events subscriber, with `person.upserted` stored and applied instead of passed on.

    The other messages go to `many` in runs between the upserts, so an upsert is applied after what
    came before it in the batch and before what came after it (upserts are rare: usually one run).
    """
    person = people.following(_never)

    async def call(messages: Sequence[Message]) -> list[str]:
        outcomes: list[str] = []
        run: list[Message] = []
        for message in [*messages, None]:
            if message is not None and message.event.type != PERSON_UPSERTED:
                run.append(message)
                continue
            if run:
                outcomes.extend(await many(run))
                run = []
            if message is not None:
                outcomes.append(await person(message.event))
        return outcomes

    return call
