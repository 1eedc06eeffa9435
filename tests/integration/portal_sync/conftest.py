"""portal-sync as a real process on the module's topics and store, and a reader of `portal.case-status`."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from shared.settings import Settings
from tests.support.env import service_env
from tests.support.kafka_io import TopicReader
from tests.support.service_process import ServiceProcess


def rebuild(settings: Settings, tmp_path: Path, mapping: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m portal_sync rebuild`, with `mapping` written to a file (None: the packaged mapping)."""
    args = []
    if mapping is not None:
        path = tmp_path / f"mapping-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(yaml.safe_dump(mapping))
        args = ["--mapping", str(path)]
    return subprocess.run([sys.executable, "-m", "portal_sync", "rebuild", *args],
                          env=service_env(settings, SERVICE_NAME="portal_sync"), capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def portal(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The portal-sync service (packaged mapping)."""
    proc = ServiceProcess("portal_sync", service_env(settings), tmp_path_factory.mktemp("portal") / "portal.log")
    proc.start()
    yield proc
    proc.stop()


class PortalTopic:
    """Everything seen on `portal.case-status`, per case."""

    def __init__(self, reader: TopicReader) -> None:
        self.reader = reader

    def records(self, case_id: str) -> list[dict]:
        """The records of one case, in topic order (envelopes)."""
        out = []
        for r in self.reader.records:
            doc = json.loads(r.value)
            if doc.get("subject") == case_id:
                assert r.key.decode() == case_id  # compacted by case id
                out.append(doc)
        return out

    def statuses(self, case_id: str) -> list[str]:
        """Portal statuses published for one case, in order."""
        return [d["data"]["portal_status"] for d in self.records(case_id)]

    async def wait(self, case_id: str, portal_status: str, timeout: float = 60.0, **fields: object) -> dict:
        """Wait for a record of the case with this status (and fields); return its data."""

        def match() -> dict | None:
            for d in reversed(self.records(case_id)):
                data = d["data"]
                if data["portal_status"] == portal_status and all(data.get(k) == v for k, v in fields.items()):
                    return data
            return None

        await self.reader.wait_for(lambda _: match() is not None, timeout=timeout)
        return match()  # type: ignore[return-value]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def portal_topic(settings: Settings) -> AsyncIterator[PortalTopic]:
    """A reader of the module's `portal.case-status` from the beginning."""
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topics.portal_case_status) as reader:
        yield PortalTopic(reader)
