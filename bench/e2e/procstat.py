"""CPU seconds and resident memory of a process, read from /proc (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    """One reading of one process: its PID, user+system CPU seconds and RSS in MiB (None when it had exited)."""

    pid: int | None
    cpu: float | None
    rss_mib: float | None


def sample(pid: int | None) -> Sample:
    """Read /proc/<pid>/stat (utime, stime) and /proc/<pid>/status (VmRSS)."""
    if pid is None:
        return Sample(None, None, None)
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name may hold spaces; the fields after its closing parenthesis do not.
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5)
        rss = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024
        return Sample(pid, cpu, rss)
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return Sample(pid, None, None)


def processes(stack) -> dict[str, int | None]:  # noqa: ANN001  (deploy/local LocalStack)
    """Label -> PID of every service replica and every server the stack started (Kafka nodes, store(s))."""
    pids: dict[str, int | None] = {}
    for label, replicas in stack.services.items():
        for i, replica in enumerate(replicas, start=1):
            pids[label if len(replicas) == 1 else f"{label}-{i}"] = replica.pid
    for node in stack.kafka_nodes:
        pids[node.label] = node.child.pid if node.child else None
    stores = getattr(stack, "stores", None) or ([stack.store] if stack.store else [])
    for i, store in enumerate(stores, start=1):
        pids["store" if len(stores) == 1 else f"store-{i}"] = store.child.pid if store.child else None
    return pids


def snapshot(stack) -> dict[str, Sample]:  # noqa: ANN001
    """A sample of each labelled process of the stack (PIDs read anew: a supervisor may have restarted one)."""
    return {label: sample(pid) for label, pid in processes(stack).items()}


def cpu_share(before: Sample | None, after: Sample | None, seconds: float) -> float | None:
    """Percent of one core used between two samples of the same process (None if it restarted or exited)."""
    if not before or not after or before.pid != after.pid or before.cpu is None or after.cpu is None or seconds <= 0:
        return None
    return 100 * (after.cpu - before.cpu) / seconds
