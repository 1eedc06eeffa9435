"""The chaos tap plus the arrival time of every `portal.case-status` record, by case id and case version."""

from __future__ import annotations

import asyncio
import json
import time

from bench.chaos.tap import Tap


class PortalTap(Tap):
    """Reads the output topics like the chaos run; also notes when each portal record (case, version) arrived."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003  (Tap's own arguments)
        super().__init__(*args, **kwargs)
        self.portal_at: dict[tuple[str, int], tuple[float, str]] = {}  # (case id, version) -> (seen at, status)
        self._closed: dict[str, asyncio.Future[float]] = {}

    def _take(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        if topic == self.topics.portal_case_status and key is not None and value:
            # Taken as it is read (the tap's own batch loop): the moment an external reader could see it.
            seen = time.monotonic()
            data = json.loads(value).get("data") or {}
            case_id, status = key.decode(), data.get("portal_status", "")
            self.portal_at.setdefault((case_id, int(data.get("version", 0))), (seen, status))
            if status == "Closed":
                self.closed(case_id)
                if not self._closed[case_id].done():
                    self._closed[case_id].set_result(seen)
        super()._take(topic, key, value)

    def closed(self, case_id: str) -> asyncio.Future[float]:
        """A future resolving with the time the case's first `Closed` portal record was read."""
        return self._closed.setdefault(case_id, asyncio.get_running_loop().create_future())
