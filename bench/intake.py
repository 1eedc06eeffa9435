"""Benchmark: a raw aiokafka consume->produce pass-through vs the intake service, on the same local Kafka.

The broker is secured like the stack's (SASL/SCRAM, ACLs): the raw pass runs as the admin on its own topics,
the intake pass sends as the CRM on its ingress topic to intake running as its own principal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "deploy" / "local")]

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient  # noqa: E402
from pymongo import AsyncMongoClient  # noqa: E402
from servers import Kafka, MongoWire  # noqa: E402  (deploy/local)

from bench.store_ceiling import store_ceiling  # noqa: E402

from shared.runtime.acls import acls, create_acls, wait_until_effective  # noqa: E402
from shared.runtime.create_topics import ensure_topics, topic_specs  # noqa: E402
from shared.runtime.kafka_security import for_principal  # noqa: E402
from shared.settings import Settings, Topics  # noqa: E402
from tests.support import credentials  # noqa: E402
from tests.support.credentials import ADMIN  # noqa: E402
from tests.support.env import service_env  # noqa: E402
from tests.support.service_process import ServiceProcess  # noqa: E402

ACTOR = {"id": "mary", "roles": ["sales_rep"]}
DATA = {"case.update": {"description": "Updated by the benchmark."},
        "case.open": {"case_type": "customer_request", "gbu": "lighting", "account_id": "ACC-1001", "subject": "Bench",
                      "fields": {"request_type": "technical_information"}}}
WARMUP = 5
SENDER = "crm"  # speaks for staff (the ACTOR) and reads case.events and case.rejections
Message = tuple[str, bytes, bytes]  # command id, key, value


@dataclass
class Result:
    """Figures of one measured pass."""

    name: str
    n: int
    latencies: list[float] = field(default_factory=list)
    rejected: int = 0
    rate: float = 0.0  # outputs per second from the first send to the last output seen
    note: str = ""

    def pct(self, q: float) -> float:
        """Latency percentile `q` (0-100) in milliseconds (nearest rank)."""
        ordered = sorted(self.latencies) or [float("nan")]
        return 1000 * ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def commands(type_: str, case_ids: list[str]) -> list[Message]:
    """One CloudEvent command of `type_` per case id, keyed by the case id."""
    out = []
    for case_id in case_ids:
        cid = str(uuid.uuid4())
        doc = {"specversion": "1.0", "id": cid, "source": "/bench", "type": type_, "subject": case_id,
               "datacontenttype": "application/json", "data": {**DATA[type_], "actor": ACTOR}}
        out.append((cid, case_id.encode(), json.dumps(doc).encode()))
    return out


async def measure(bootstrap: str, name: str, topics: Topics, messages: list[Message], deadline: float,
                  rate: float = 0, rejections: bool = False, principal: str = ADMIN) -> Result:
    """As `principal`, send `messages` to the commands topic; time each until an event caused by (or with) its id."""
    result, out_topic = Result(name, len(messages)), topics.case_events
    reject_topic = topics.case_rejections if rejections else None
    security = credentials.options(principal)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", **security)
    # No group: all partitions (and no group ACL needed).
    observer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **security)
    await asyncio.gather(producer.start(), observer.start())
    tps = [TopicPartition(t, p) for t in (out_topic, reject_topic) if t for p in await producer.partitions_for(t)]
    observer.assign(tps)
    await observer.seek_to_end(*tps)
    await asyncio.gather(*(observer.position(tp) for tp in tps))  # resolve the ends before anything is sent
    sent: dict[str, float] = {}

    async def feed() -> None:
        start, pending = time.perf_counter(), []
        for i, (cid, key, value) in enumerate(messages):
            if rate:
                await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            sent[cid] = time.perf_counter()
            pending.append(await producer.send(topics.case_commands, value, key=key))
        await asyncio.gather(*pending)

    feeder = asyncio.create_task(feed())
    first = last = time.perf_counter()
    try:
        while len(result.latencies) + result.rejected < len(messages) and time.perf_counter() < deadline:
            batch = await observer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in batch.values():
                for rec in records:
                    doc = json.loads(rec.value)
                    t0 = sent.pop(doc.get("causationid") or doc.get("id"), None)
                    if t0 is None:
                        continue  # a further event of the same command, or not ours
                    if rec.topic == reject_topic:
                        result.rejected += 1
                        result.note = result.note or f"first: {doc['data'].get('code')}: {doc['data'].get('reason')}"
                    else:
                        result.latencies.append(now - t0)
                    last = now
        if feeder.done():
            feeder.result()  # surface a send error
    finally:
        feeder.cancel()
        await asyncio.gather(producer.stop(), observer.stop())
    result.rate = len(result.latencies) / (last - first) if last > first else 0.0
    missing = len(messages) - len(result.latencies) - result.rejected
    result.note = (f"TIMEOUT, {missing} missing " if missing else "") + (
        f"{result.rejected} rejected ({result.note})" if result.rejected else "")
    return result


async def passthrough(bootstrap: str, topics: Topics, group: str, per_batch: bool, ready: asyncio.Event) -> None:
    """The service's shape without its logic: read a command, produce it with the same key, commit."""
    consumer = AIOKafkaConsumer(topics.case_commands, bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest", **credentials.options())
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                **credentials.options())
    await asyncio.gather(consumer.start(), producer.start())
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=100)
            if consumer.assignment():
                ready.set()
            for tp, records in batch.items():
                if per_batch:
                    sends = [await producer.send(topics.case_events, r.value, key=r.key) for r in records]
                    await asyncio.gather(*sends)
                    await consumer.commit({tp: records[-1].offset + 1})
                    continue
                for r in records:
                    await producer.send_and_wait(topics.case_events, r.value, key=r.key)
                    await consumer.commit({tp: r.offset + 1})
    finally:
        await asyncio.gather(consumer.stop(), producer.stop())


async def raw_pass(bootstrap: str, n: int, per_batch: bool, deadline: float, rate: float) -> Result:
    """Measure the pass-through on its own 12-partition commands/events topics."""
    # The CRM's ingress topic as the commands topic, so both passes read topics of the same shape.
    base = Topics().prefixed(f"bench-{uuid.uuid4().hex[:8]}.")
    topics = base.sent_by(SENDER)
    specs = [s for s in topic_specs(base) if s.name in (topics.case_commands, topics.case_events)]
    await ensure_topics(bootstrap, specs, security=credentials.options())
    ready = asyncio.Event()
    worker = asyncio.create_task(passthrough(bootstrap, topics, f"bench-{uuid.uuid4().hex[:8]}", per_batch, ready))
    ids = [f"RAW-{uuid.uuid4().hex[:12]}" for _ in range(n + WARMUP)]
    try:
        await asyncio.wait_for(ready.wait(), max(1.0, deadline - time.perf_counter()))
        await measure(bootstrap, "warm-up", topics, commands("case.open", ids[:WARMUP]), deadline)
        name = f"raw (commit per {'batch' if per_batch else 'message'})"
        return await measure(bootstrap, name, topics, commands("case.open", ids[WARMUP:]), deadline, rate)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await cleanup(bootstrap, [s.name for s in specs])


async def intake_pass(bootstrap: str, mongo: str, n: int, deadline: float, rate: float, log: Path) -> list[Result]:
    """Run `python -m intake` on bench topics and database; measure N `case.open` then N `case.update`."""
    tag = uuid.uuid4().hex[:8]
    settings = Settings(service_name="intake", kafka_bootstrap_servers=bootstrap, mongodb_url=mongo,
                        mongodb_database=f"bench_{tag}", topic_prefix=f"bench-{tag}.",
                        consumer_group_prefix=f"bench-{tag}-")
    topics, specs = settings.topics.sent_by(SENDER), topic_specs(settings.topics)
    await ensure_topics(bootstrap, specs, security=credentials.options())
    await grant(bootstrap, settings)
    proc = ServiceProcess("intake", service_env(settings), log)
    ids = [f"BENCH-{tag}-{i:06d}" for i in range(n + WARMUP)]

    async def run(name: str, messages: list[Message], pace: float) -> Result:
        return await measure(bootstrap, name, topics, messages, deadline, pace, rejections=True, principal=SENDER)

    try:
        try:
            proc.start(timeout=60)  # prints the tail of the service log when it fails
        except Exception as exc:  # reported, so the raw figures still print
            return [Result("intake case.open", n, note=f"intake did not start: {exc}")]
        warm = await run("warm-up", commands("case.open", ids[:WARMUP]), 0)
        if not warm.latencies:
            print(proc.log()[-3000:], file=sys.stderr)
            return [Result("intake case.open", n, note=f"warm-up case.open gave no event ({warm.note})")]
        return [await run("intake case.open", commands("case.open", ids[WARMUP:]), rate),
                await run("intake case.update", commands("case.update", ids[WARMUP:]), rate)]
    finally:
        proc.stop()
        await cleanup(bootstrap, [s.name for s in specs], mongo, settings.database)


async def grant(bootstrap: str, settings: Settings) -> None:
    """Every principal's ACLs on the intake pass's topics and groups, once in force (nothing on a PLAINTEXT broker)."""
    if credentials.USERS:
        await create_acls(bootstrap, acls(settings.topics, settings.consumer_group_prefix), credentials.options())
        await wait_until_effective(bootstrap, credentials.options(SENDER), settings.topics.case_events)


def known_users(environ: dict[str, str]) -> dict[str, str]:
    """Principal -> password of a SASL/SCRAM broker the environment names (`.local/stack.env`); empty otherwise."""
    if for_principal(ADMIN, environ).protocol != "SASL_PLAINTEXT":
        return {}
    found = {p: for_principal(p, environ) for p in (ADMIN, SENDER)}
    return {p: sec.password for p, sec in found.items() if sec.username == p and sec.password}


async def cleanup(bootstrap: str, topics: list[str], mongo: str | None = None, database: str | None = None) -> None:
    """Delete the bench topics and drop the bench database."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **credentials.options())
    await admin.start()
    try:
        await admin.delete_topics(topics)
    finally:
        await admin.close()
    if mongo and database:
        client: AsyncMongoClient = AsyncMongoClient(mongo, serverSelectionTimeoutMS=5000)
        await client.drop_database(database)
        await client.close()


async def run_all(bootstrap: str, mongo: str, args: argparse.Namespace, log: Path) -> list[Result]:
    """Every pass, in one run, against one deadline."""
    deadline = time.perf_counter() + args.timeout
    results = [await raw_pass(bootstrap, args.n, per_batch, deadline, args.rate) for per_batch in (False, True)]
    results += await intake_pass(bootstrap, mongo, args.n, deadline, args.rate, log)
    # On the same store process, after intake's passes (so neither run's leftovers weigh on the other).
    ceiling = await store_ceiling(mongo, args.n)
    return results + [Result(c.name, c.docs, c.batches, rate=c.rate, note=c.note()) for c in ceiling]


def print_table(results: list[Result], n: int, bootstrap: str) -> None:
    """One line per pass; intake rates also as ratios of both raw rates and of the store ceiling's same operation."""
    raw_msg, raw_batch = results[0].rate, results[1].rate if len(results) > 1 else 0.0
    ceiling = {r.name.removeprefix("store "): r.rate for r in results if r.name.startswith("store ")}
    print(f"\nN={n}  nproc={os.cpu_count()}  kafka={bootstrap}  python={sys.version.split()[0]}")
    print(f"{'pass':<28}{'done':>11}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'/raw msg':>9}{'/raw batch':>11}"
          f"{'/store':>8}  note")
    for r in results:
        intake = r.name.startswith("intake") and r.latencies
        ratio_msg = f"{r.rate / raw_msg:.2f}" if intake and raw_msg else ""
        ratio_batch = f"{r.rate / raw_batch:.3f}" if intake and raw_batch else ""
        store = ceiling.get(r.name.removeprefix("intake "), 0.0)
        ratio_store = f"{r.rate / store:.2f}" if intake and store else ""
        done = f"{len(r.latencies)}/{r.n}" if not r.name.startswith("store ") else f"{r.n}/{r.n}"
        print(f"{r.name:<28}{done:>11}{r.rate:>9.0f}{r.pct(50):>9.1f}{r.pct(99):>9.1f}{ratio_msg:>9}{ratio_batch:>11}"
              f"{ratio_store:>8}  {r.note}")


def main() -> None:
    """Start (or reuse) Kafka and the store, run every pass, print the table, stop what was started."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages / commands per pass")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for all passes together")
    parser.add_argument("--rate", type=float, default=0, help="send at this many msgs/s (0 = all at once)")
    args = parser.parse_args()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    bootstrap, mongo = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URL")
    started = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        try:
            # Every client is a principal (tests/support/credentials); intake runs as its own, or as the admin when
            # only the admin's and the CRM's passwords are known (an existing stack's .local/stack.env).
            if not bootstrap:
                started.append(Kafka(Path(tmp) / "kafka", log_file=Path(tmp) / "kafka.log").start())
                bootstrap = started[-1].bootstrap
                credentials.USERS.update(started[-1].users)
            else:
                credentials.USERS.update(known_users(dict(os.environ)))
            if not mongo:
                started.append(MongoWire(Path(tmp) / "store", log_file=Path(tmp) / "store.log").start())
                mongo = started[-1].url
            results = asyncio.run(run_all(bootstrap, mongo, args, Path(tmp) / "intake.log"))
        finally:
            for server in reversed(started):
                server.stop()
    print_table(results, args.n, bootstrap)


if __name__ == "__main__":
    main()
