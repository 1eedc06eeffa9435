"""Case commands from the pages, on web's own ingress topic (`case.commands.web`), keyed by case id."""

from __future__ import annotations

import uuid

from faststream.kafka import KafkaBroker

from shared.contract.envelope import CloudEvent, now_utc

SOURCE = "/services/web"


class KafkaCaseCommands:
    """Sends as the Kafka principal `web`, which may speak for staff (shared/data/principals.yaml)."""

    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self._broker, self.topic = broker, topic

    async def assign_to_self(self, case_id: str, person: str) -> str:
        """`case.assign` with no assignee and no queue: the actor takes the case; intake decides as always."""
        command = CloudEvent(id=str(uuid.uuid4()), source=SOURCE, type="case.assign", subject=case_id, time=now_utc(),
                             data={"actor": {"id": person, "roles": []}})  # roles come from the directory
        await self._broker.publish(command.to_bytes(), topic=self.topic, key=case_id.encode(),
                                   headers={"content-type": "application/cloudevents+json"})
        return command.id
