"""The store alone doing intake's per-batch operations: the ceiling intake's rates are compared with.

Per batch of 200 (intake's max records per fetch) it does what the unit of work asks of the store:
one `$in` load of the batch's cases (`load_docs`, whole documents as intake loads them), then one bulk of compare-and-set
writes (`write_cas`, grouped in a transaction where the server has them): inserts for `case.open`,
version compare-and-set updates for `case.update`. The documents are shaped like intake's case documents
(`case`, `version`, `applied`, `outbox`, `history_pending`) with the same indexes. Batches run one after
another, as one consumer's batches do. The client is `shared.runtime.mongo.connect`'s (journaled writes).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.runtime.mongo import connect
from shared.runtime.mongo_batch import CasWrite, load_docs, write_cas
from shared.runtime.mongo_outbox import push_bounded

BATCH = 200


@dataclass
class Ceiling:
    """One operation's figures: documents done, seconds spent loading and writing, each batch's seconds."""

    name: str
    docs: int = 0
    load_s: float = 0.0
    write_s: float = 0.0
    batches: list[float] = field(default_factory=list)
    lost: int = 0  # compare-and-set writes that missed (none expected: nothing else writes these cases)

    @property
    def rate(self) -> float:
        """Documents per second, load and write together."""
        spent = self.load_s + self.write_s
        return self.docs / spent if spent else 0.0

    def note(self) -> str:
        """Load and write rates apart, and any lost write."""
        load = self.docs / self.load_s if self.load_s else 0.0
        write = self.docs / self.write_s if self.write_s else 0.0
        lost = f", {self.lost} LOST" if self.lost else ""
        return f"batches of {BATCH}, p50/p99 per batch; $in load {load:,.0f}/s, bulk CAS write {write:,.0f}/s{lost}"


def _state(case_id: str, version: int, now: str, description: str) -> dict[str, Any]:
    """A customer request as intake stores it (history left out), every field of the model present."""
    return {
        "id": case_id, "case_type": "customer_request", "gbu": "lighting", "account_id": "ACC-1001",
        "account": {"account_id": "ACC-1001", "name": "Acme Lighting", "country": "NL", "segment": "key"},
        "subject": "Bench", "description": description, "description_notes": [], "contact": None, "cause": None,
        "fields": {"request_type": "technical_information"}, "status": "new", "version": version,
        "created_at": now, "updated_at": now, "created_by": {"id": "mary", "roles": ["sales_rep"]},
        "assignee": None, "queue": None, "resolution": None, "resolution_date": None,
        "feasibility_conclusion": None, "feasible": None, "customer_satisfaction": None, "closure_reason": None,
        "duplicate_of": None, "closure_comment": None, "closed_at": None, "closed_by": None,
        "related_products": [], "related_product_count": 0, "additional_accounts": [], "shipping_sites": [],
        "team": [], "sample_requests": [], "quote": None, "order": None, "history": [],
    }


def _entry(case_id: str, type_: str, state: dict[str, Any], at: datetime) -> dict[str, Any]:
    """An outbox entry carrying the event as intake queues it (the CloudEvent with the case snapshot)."""
    event_id = str(uuid.uuid4())
    payload = {"specversion": "1.0", "id": event_id, "source": "/intake", "type": type_, "subject": case_id,
               "causationid": str(uuid.uuid4()), "datacontenttype": "application/json", "time": at.isoformat(),
               "data": {"case_id": case_id, "version": state["version"], "case": state}}
    return {"id": event_id, "topic": "case.events", "key": case_id, "payload": json.dumps(payload), "at": at}


def _pending(case_id: str, version: int, at: datetime, what: str) -> list[dict[str, Any]]:
    """One history entry as `history_pending` keeps it until it moves."""
    entry = {"at": at.isoformat(), "actor": "mary", "action": what, "changes": [{"field": "description"}]}
    return [{"hid": f"{case_id}:{version}:0", "version": version, "i": 0, "at": at, "entry": entry}]


def _open(case_id: str) -> CasWrite:
    at = datetime.now(UTC)
    state = _state(case_id, 1, at.isoformat(), "")
    return CasWrite(case_id, doc={"case": state, "version": 1, "applied": [str(uuid.uuid4())],
                                  "outbox": [_entry(case_id, "case.opened", state, at)],
                                  "history_pending": _pending(case_id, 1, at, "opened")})


def _update(case_id: str, doc: dict[str, Any]) -> CasWrite:
    at, version = datetime.now(UTC), doc["version"] + 1
    state = {**doc["case"], "version": version, "updated_at": at.isoformat(), "description": "Updated by the bench."}
    # As intake's save: state, version and outbox set; the command id and the history entry pushed.
    return CasWrite(case_id, doc["version"], update={
        "$set": {"case": state, "version": version, "outbox": [_entry(case_id, "case.updated", state, at)]},
        "$push": {"applied": push_bounded(str(uuid.uuid4())),
                  "history_pending": {"$each": _pending(case_id, version, at, "updated")}}})


async def _batches(coll: Any, ids: list[str], name: str) -> Ceiling:
    figures = Ceiling(name)
    for i in range(0, len(ids), BATCH):
        keys = ids[i:i + BATCH]
        t0 = time.perf_counter()
        docs = await load_docs(coll, keys)  # as intake loads its cases: whole documents
        t1 = time.perf_counter()
        writes = [_update(k, docs[k]) if k in docs else _open(k) for k in keys]
        t2 = time.perf_counter()  # building the writes is the bench's own work, not the store's
        figures.lost += len(await write_cas(coll, writes))
        t3 = time.perf_counter()
        figures.load_s, figures.write_s = figures.load_s + t1 - t0, figures.write_s + t3 - t2
        figures.batches.append(t1 - t0 + t3 - t2)
        figures.docs += len(keys)
    return figures


async def store_ceiling(url: str, n: int) -> list[Ceiling]:
    """`n` cases opened then `n` updated, in batches, in a database of its own (dropped at the end)."""
    client, db = connect(url, f"bench_ceiling_{uuid.uuid4().hex[:8]}")
    coll = db["cases"]
    try:
        for index in ("outbox.at", "history_pending.at"):  # intake's indexes on its cases collection
            await coll.create_index(index, sparse=True)
        await coll.create_index("case.account_id")
        ids = [f"CEIL-{i:06d}" for i in range(n)]
        return [await _batches(coll, ids, "store case.open"), await _batches(coll, ids, "store case.update")]
    finally:
        await client.drop_database(db.name)
        await client.close()
