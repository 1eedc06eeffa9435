"""The process's Prometheus metrics: one registry, `backbone_` names, bounded labels (docs/operations.md, "Metrics").

Labels are only ever a service, a topic, a partition, a message type of the contract, an outcome label
from the code, or a small fixed set: never a case id, a command id or anything else a sender chooses.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import time
import weakref
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # no `_created` series beside every counter: half the samples, nothing a panel uses
REGISTRY = CollectorRegistry(auto_describe=True)  # one per process; /metrics serves it
PREFIX = "backbone"
FASTSTREAM_PREFIX = f"{PREFIX}_faststream"  # FastStream's middleware: per-topic consume/publish counts and durations
UNKNOWN_TYPE = "other"  # a readable envelope whose type the contract does not know
UNREADABLE_TYPE = "unreadable"  # a record whose type could not be read (or is not the contract's)
# Seconds: a batch call of a few hundred records takes tens of ms; an outage pause is seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_service = ["service"]  # the process's service; create_broker binds it (one service per process)


def bind_service(name: str) -> None:
    """Name the process's service: the `service` label of every series recorded after this call."""
    _service[0] = name


def service() -> str:
    """The `service` label of this process."""
    return _service[0]


def _counter(name: str, doc: str, labels: list[str]) -> Counter:
    return Counter(f"{PREFIX}_{name}", doc, ["service", *labels], registry=REGISTRY)


def _gauge(name: str, doc: str, labels: list[str]) -> Gauge:
    return Gauge(f"{PREFIX}_{name}", doc, ["service", *labels], registry=REGISTRY)


RECORDS_HANDLED = _counter("records_handled", "Records a handler finished, by the handler's outcome label "
                           "(accepted, duplicate, ignored, rejected, ...).", ["topic", "type", "outcome"])
RECORDS_REFUSED = _counter("records_refused", "Records refused with a rejection record: cause=decision (the "
                           "service said no) or cause=malformed (unreadable but answerable).", ["topic", "type", "cause"])
RECORDS_DEAD_LETTERED = _counter("records_dead_lettered", "Records written to <topic>.dlq (unreadable, or failed "
                                 "MAX_FAILURES times).", ["topic", "type"])
HANDLING_SECONDS = Histogram(f"{PREFIX}_handling_seconds", "Handling time: scope=batch per fetched batch of a "
                             "subscription, scope=record per record (a fast-path record counts its batch call).",
                             ["service", "topic", "scope"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
CONSUMER_LAG = _gauge("consumer_lag", "Records behind the partition's end (highwater - position), sampled at "
                      "scrape time; the batch in hand is not counted.", ["topic", "partition"])
OUTBOX_BACKLOG = _gauge("outbox_backlog", "Outbox entries older than the relay's grace and not yet on the broker, "
                        "as the last sweep found them (at most 500 owners per store).", [])
OUTBOX_OLDEST_AGE = _gauge("outbox_oldest_age_seconds", "Age of the oldest of those entries at the last sweep "
                           "(0: none).", [])
OUTBOX_SWEEP_TIME = _gauge("outbox_last_sweep_timestamp_seconds", "When the relay last finished looking "
                           "(unix time): a stuck relay stops moving it.", [])
OUTBOX_MARKS_PENDING = _gauge("outbox_marks_pending", "Entries on the broker whose published mark is not "
                              "written yet (PublishedMarks).", [])
MAILS_SENT = _counter("mails_sent", "Mails the SMTP server accepted.", [])
MAILS_FAILED = _counter("mails_failed", "Deliveries given up: permanent=true (refused by the server) or "
                        "false (out of attempts).", ["permanent"])
MAIL_RETRIES = _counter("mail_retries", "Send attempts that failed and were scheduled again: reason=unreachable "
                        "(no server) or temporary.", ["reason"])
TIMERS_FIRED = _counter("timers_fired", "Cases changed by firing due timers (kind=approval: reminders, "
                        "escalations, absences; kind=case: case time frames).", ["kind"])
TIMERS_NEXT_DUE = _gauge("timers_next_due_timestamp_seconds", "The earliest pending timer after the last tick "
                         "(unix time; absent: none).", ["kind"])
TIMERS_OVERDUE = _gauge("timers_overdue_seconds", "How far past due the earliest pending timer is, computed "
                        "at scrape time (0: none due): a scheduler that stopped shows it growing.", ["kind"])


@cache
def contract_types() -> frozenset[str]:
    """Every message type the contract declares (the `*_TYPES` registries and `*_TYPE` names of shared.contract)."""
    import shared.contract as contract

    names: set[str] = set()
    for module in pkgutil.iter_modules(contract.__path__):
        for key, value in vars(importlib.import_module(f"shared.contract.{module.name}")).items():
            if key.endswith("_TYPES") and isinstance(value, dict):
                names.update(value)
            elif key.endswith("_TYPE") and isinstance(value, str):
                names.add(value)
    return frozenset(names)


def type_label(type_: str | None) -> str:
    """The `type` label of a record: a contract type as it is, anything else one of two fixed values."""
    if type_ is None:
        return UNREADABLE_TYPE
    return type_ if type_ in contract_types() else UNKNOWN_TYPE


# -- hooks for the background loops ----------------------------------------------------------------------

class OutboxBacklog:
    """What one relay sweep finds waiting; `report` sets the backlog gauges (a sweep cut short reports what it saw)."""

    def __init__(self) -> None:
        self.count, self.oldest = 0, None  # type: int, datetime | None

    def add(self, entries: Iterable[Any]) -> None:
        """Entries (with `.at`) found waiting."""
        for entry in entries:
            self.count += 1
            self.oldest = entry.at if self.oldest is None or entry.at < self.oldest else self.oldest

    def report(self) -> None:
        """Set the gauges: backlog, the oldest entry's age, the sweep time."""
        now = time.time()
        OUTBOX_BACKLOG.labels(service()).set(self.count)
        OUTBOX_OLDEST_AGE.labels(service()).set(0 if self.oldest is None else max(0.0, now - self.oldest.timestamp()))
        OUTBOX_SWEEP_TIME.labels(service()).set(now)


_marks: weakref.WeakSet[Any] = weakref.WeakSet()


def watch_marks(marks: Any) -> None:
    """Count `marks.published` (every PublishedMarks of the process) in `backbone_outbox_marks_pending` at scrape."""
    _marks.add(marks)
    OUTBOX_MARKS_PENDING.labels(service()).set_function(lambda: sum(len(m.published) for m in list(_marks)))


_next_due: dict[str, float | None] = {}


def timers_ticked(kind: str, fired: int, next_due: datetime | None) -> None:
    """A timer loop's tick: how many cases it changed and its earliest pending timer (None: none)."""
    if fired:
        TIMERS_FIRED.labels(service(), kind).inc(fired)
    if kind not in _next_due:
        TIMERS_OVERDUE.labels(service(), kind).set_function(
            lambda: max(0.0, time.time() - due) if (due := _next_due.get(kind)) is not None else 0.0)
    _next_due[kind] = None if next_due is None else next_due.timestamp()
    if next_due is not None:
        TIMERS_NEXT_DUE.labels(service(), kind).set(next_due.timestamp())
    else:
        with contextlib.suppress(KeyError):  # no pending timer: no series (it was never set, or is gone)
            TIMERS_NEXT_DUE.remove(service(), kind)


def exported_names() -> set[str]:
    """Every sample name the process can export (counters with _total, histograms with _bucket/_sum/_count)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",),
                "summary": ("_sum", "_count", "")}
    return {family.name + s for family in REGISTRY.collect() for s in suffixes.get(family.type, ("",))}
