"""Faults injected at random points of the workload (seeded): SIGKILLed services, a broker, a store; SMTP stopped."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger("chaos")
SERVICES = ("intake", "approval", "routing", "portal-sync", "notifier")


@dataclass
class Fault:
    """One fault: what, where, when it fired (seconds into the run) and how long until the target was back."""

    kind: str
    target: str
    at_sent: int  # fires once the workload has sent this many commands
    down_for: float = 0.0  # seconds the target is kept down before it is started again (broker, store, smtp)
    fired_at: float | None = None
    recovered_after: float | None = None
    note: str = ""


def plan(rng: random.Random, commands: int, brokers: int, extra_kills: int = 0, down_scale: float = 1.0,
         stores: Sequence[str] = ("store",)) -> list[Fault]:
    """Every service killed once (plus `extra_kills` random ones), a broker if there are 3, a store, SMTP.

    `stores`: the labels of the stack's store processes; one of them (a seeded choice) is killed, none if empty.
    `down_scale` shortens (or stretches) how long a broker, the store and SMTP stay down.
    """
    faults = [Fault("SIGKILL service", label, 0) for label in SERVICES]
    faults += [Fault("SIGKILL service", rng.choice(SERVICES), 0) for _ in range(extra_kills)]
    if brokers >= 3:
        faults.append(Fault("SIGKILL broker", f"kafka node {rng.randrange(brokers)}", 0, rng.uniform(5, 20) * down_scale))
    if stores:
        faults.append(Fault("SIGKILL store", rng.choice(sorted(stores)), 0, rng.uniform(1, 5) * down_scale))
    faults.append(Fault("stop SMTP sink", "smtp", 0, rng.uniform(15, 40) * down_scale))
    rng.shuffle(faults)
    # Spread over 5..70 % of the workload, so the run has traffic before, during and after each.
    points = sorted(rng.uniform(0.05, 0.7) * commands for _ in faults)
    for fault, point in zip(faults, points):
        fault.at_sent = int(point)
    return faults


async def _until(check: Callable[[], bool], timeout: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


def _healthy_within(replica, timeout: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not replica.healthy():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


async def inject(stack, fault: Fault, rng: random.Random) -> None:  # noqa: ANN001  (deploy/local LocalStack)
    """Apply one fault and wait until its target is back; records fired_at and recovered_after."""
    started = time.monotonic()
    if fault.kind == "SIGKILL service":
        replicas = stack.services[fault.target]
        victim = rng.choice(replicas)
        before = victim.restarts
        await asyncio.to_thread(victim.kill)  # blocks until the process has exited
        ok = await _until(lambda: victim.restarts > before and victim.pid is not None)
        ok = ok and await asyncio.to_thread(_healthy_within, victim, 120.0)
        fault.note = f"replica {replicas.index(victim) + 1}/{len(replicas)}" + ("" if ok else ", NOT back healthy")
    elif fault.kind == "SIGKILL broker":
        node = stack.kafka_nodes[int(fault.target.rsplit(" ", 1)[-1])]
        await asyncio.to_thread(node.kill)
        await asyncio.sleep(fault.down_for)
        await asyncio.to_thread(node.start)
    elif fault.kind == "SIGKILL store":  # only the services using this store see the outage
        store = next(s for s in stack.stores if s.label == fault.target)
        await asyncio.to_thread(store.kill)
        await asyncio.sleep(fault.down_for)
        await asyncio.to_thread(store.start)
        fault.note = ", ".join(label for label, s in stack.store_of.items() if s is store)
    else:
        await asyncio.to_thread(stack.smtp.stop)
        await asyncio.sleep(fault.down_for)
        await asyncio.to_thread(stack.smtp.start)
    fault.recovered_after = time.monotonic() - started


async def run_faults(stack, faults: list[Fault], sent: Callable[[], int], rng: random.Random, t0: float,  # noqa: ANN001
                     say=print) -> None:  # noqa: ANN001
    """Fire each fault when the workload reaches its point; faults may overlap (each waits for its own recovery)."""

    async def one(fault: Fault, rng: random.Random) -> None:
        while sent() < fault.at_sent:
            await asyncio.sleep(0.2)
        fault.fired_at = time.monotonic() - t0
        say(f"  {fault.fired_at:6.0f}s  fault: {fault.kind} {fault.target}")
        try:
            await inject(stack, fault, rng)
        except Exception as exc:  # reported in the table; the run goes on
            fault.note = f"FAILED: {exc!r}"[:120]
            log.exception("fault %s %s", fault.kind, fault.target)

    # One service label is never killed twice at once: a second kill of a restarting replica would find no process.
    by_target: dict[str, list[Fault]] = {}
    for fault in faults:
        by_target.setdefault(fault.target, []).append(fault)

    async def in_turn(group: list[Fault], rng: random.Random) -> None:
        for fault in group:
            await one(fault, rng)
    await asyncio.gather(*(in_turn(group, random.Random(rng.random())) for group in by_target.values()))
