"""Benchmark: two client processes against one shared store process, then against a store process each.

SecantusDB is a Python server, so one process uses one core at most. Each client process stands for a service
(its own database) and loops over the store operations a service does per command, in about the stack's mix:
`insert_one`, `find_one` by `_id` and compare-and-set `update_one` (filter on `_id` and version, `$inc` the
version), from several threads.
Every store runs with `--sync-on-commit`, as in `make run`, and starts empty. Prints each run's operations/s per
client and in total, each store's CPU and the machine's load (on a shared machine a high load means a noisy row).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "deploy" / "local")]

from servers import MongoWire  # noqa: E402  (deploy/local)


# Per loop, about the stack's mix per command (issue 10: 15 queries, 5 updates, 1.5 inserts): reads dominate.
READS, UPDATES = 10, 3


def _loop(docs, prefix: str, deadline: float, counts: list[int]) -> None:  # noqa: ANN001
    i = 0
    while time.monotonic() < deadline:
        key = f"{prefix}-{i}"
        docs.insert_one({"_id": key, "version": 0, "state": {"status": "new", "history": []}})
        for n in range(UPDATES):
            for _ in range(READS // UPDATES + (n == 0) * (READS % UPDATES)):
                doc = docs.find_one({"_id": key})
            docs.update_one({"_id": key, "version": doc["version"]},
                            {"$set": {"state.status": f"step-{n}"}, "$inc": {"version": 1}})
        i += 1
    counts.append((1 + READS + UPDATES) * i)


def client(url: str, database: str, start_at: float, seconds: float, threads: int, results) -> None:  # noqa: ANN001
    """One service's load: `threads` loops of insert, read, compare-and-set update; its ops/s into `results`.

    Several requests in flight, as a service's consumer, relay and HTTP handlers have, keep the store busy.
    """
    from pymongo import MongoClient

    db = MongoClient(url, journal=True)[database]
    db["cases"].insert_one({"_id": "warm-up", "version": 0})
    time.sleep(max(0.0, start_at - time.time()))  # every client starts at the same moment
    deadline, counts = time.monotonic() + seconds, []
    workers = [threading.Thread(target=_loop, args=(db["cases"], f"t{n}", deadline, counts)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((database, sum(counts) / seconds))
    db.client.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(urls: list[str], seconds: float, threads: int, pids: list[int]) -> tuple[list[float], list[float]]:
    """Start one client process per URL at once; their operations/s, and the CPU % of each store (`pids`)."""
    ctx = multiprocessing.get_context("spawn")
    results, start_at = ctx.Queue(), time.time() + 3.0  # room for the spawned interpreters to import pymongo
    procs = [ctx.Process(target=client, args=(url, f"bench_{uuid.uuid4().hex[:8]}", start_at, seconds, threads,
                                              results))
             for url in urls]
    for proc in procs:
        proc.start()
    time.sleep(max(0.0, start_at - time.time()))
    before = [cpu_seconds(pid) for pid in pids]
    time.sleep(seconds)
    cpu = [(cpu_seconds(pid) - b) / seconds * 100 for pid, b in zip(pids, before)]
    rates = [results.get(timeout=seconds + 60)[1] for _ in procs]
    for proc in procs:
        proc.join()
    return rates, cpu


def fresh_stores(root: Path, count: int) -> list[MongoWire]:
    """`count` new, empty stores: every run starts from the same state."""
    stores = [MongoWire(root / f"store-{n}", log_file=root / f"store-{n}.log") for n in range(count)]
    for store in stores:
        store.start()
    return stores


def main() -> None:
    """Alternate the two layouts, each run on fresh stores; print each run and the mean totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="seconds each run is measured")
    parser.add_argument("--rounds", type=int, default=3, help="times each layout is measured (alternating)")
    parser.add_argument("--threads", type=int, default=8, help="requests in flight per client process")
    args = parser.parse_args()
    print(f"SecantusDB --sync-on-commit; nproc {os.cpu_count()}; {args.seconds:g}s per run; {args.threads} threads "
          f"per client; ops per loop: 1 insert_one, {READS} find_one, {UPDATES} CAS update_one", flush=True)
    print(f"{'layout':<30}{'client 1':>10}{'client 2':>10}{'total/s':>10}  store CPU (% of a core){'load':>6}")
    layouts = {"one store, both clients": 1, "two stores, one each": 2}
    totals: dict[str, list[float]] = {name: [] for name in layouts}
    with tempfile.TemporaryDirectory(prefix="bench-stores-") as tmp:
        for round_ in range(args.rounds):
            for name, count in layouts.items():
                stores = fresh_stores(Path(tmp) / f"{round_}-{count}", count)
                try:
                    rates, cpu = run([stores[0].url, stores[-1].url], args.seconds, args.threads,
                                     [store.child.pid for store in stores])
                finally:
                    for store in stores:
                        store.stop()
                totals[name].append(sum(rates))
                load = os.getloadavg()[0]  # the machine may be shared: a high load means a noisy row
                shown = " + ".join(f"{c:.0f}" for c in cpu)
                print(f"{name:<30}{rates[0]:>10.0f}{rates[1]:>10.0f}{sum(rates):>10.0f}  {shown:<23}{load:>6.1f}",
                      flush=True)
    shared, split = (sum(v) / len(v) for v in totals.values())
    print(f"mean total: one store {shared:.0f} ops/s, two stores {split:.0f} ops/s, ratio {split / shared:.2f}")


if __name__ == "__main__":
    main()
