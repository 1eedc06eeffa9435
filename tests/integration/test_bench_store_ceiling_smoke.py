"""`bench/store_ceiling.py` with a tiny N on the real store: every case opened then updated, no write lost.

No figure is asserted (the machine is shared); only that the ceiling pass runs and leaves no database behind.
"""

from __future__ import annotations

import pytest
from pymongo import AsyncMongoClient

from bench.store_ceiling import BATCH, store_ceiling

pytestmark = pytest.mark.integration


async def test_the_store_ceiling_opens_then_updates_every_case(settings):
    opened, updated = await store_ceiling(settings.mongodb_url, BATCH + 10)
    assert (opened.name, opened.docs, len(opened.batches), opened.lost) == ("store case.open", BATCH + 10, 2, 0)
    assert (updated.name, updated.docs, updated.lost) == ("store case.update", BATCH + 10, 0)
    assert opened.rate > 0 and updated.rate > 0
    client: AsyncMongoClient = AsyncMongoClient(settings.mongodb_url)
    assert not [name for name in await client.list_database_names() if name.startswith("bench_ceiling_")]
    await client.close()
