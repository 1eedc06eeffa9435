"""The consumer path's metrics hooks: each record's end (handled, refused, dead-lettered) and the handling time.

One `ConsumerMetrics` per subscription. Label children are made once per (topic, type, outcome) and kept,
so the hot path does a dict lookup and an increment per record, never a label resolution.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from shared.runtime import metrics
from shared.runtime.metrics import (HANDLING_SECONDS, RECORDS_DEAD_LETTERED, RECORDS_HANDLED, RECORDS_REFUSED,
                                    type_label)

REFUSED_OUTCOMES = frozenset({"rejected", "refused"})  # the handler said no (Step.refused), answered by a rejection


class ConsumerMetrics:
    """Counts and times what one subscription does with its records."""

    def __init__(self, topics: Sequence[str]) -> None:
        self._subscription = ",".join(topics)  # a batch may hold several topics of one subscription
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), metrics.service(), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(metrics.service(), *labels)
        return child

    def handled(self, topic: str, type_: str | None, outcome: str, count: int = 1) -> None:
        """A handler finished `count` records with `outcome`; a refusal counts as refused too."""
        kind = type_label(type_)
        self._child(RECORDS_HANDLED, topic, kind, outcome).inc(count)
        if outcome in REFUSED_OUTCOMES:
            self._child(RECORDS_REFUSED, topic, kind, "decision").inc(count)

    def refused_malformed(self, topic: str, type_: str | None) -> None:
        """An unreadable record answered with a rejection (it never reached a handler)."""
        self._child(RECORDS_REFUSED, topic, type_label(type_), "malformed").inc()

    def dead_lettered(self, topic: str, type_: str | None) -> None:
        """The record is on `<topic>.dlq`."""
        self._child(RECORDS_DEAD_LETTERED, topic, type_label(type_)).inc()

    def record_took(self, topic: str, seconds: float) -> None:
        """One try of one record on the careful path took `seconds`."""
        self._child(HANDLING_SECONDS, topic, "record").observe(seconds)

    def fast_path_done(self, batch: Sequence[tuple[Any, Any]], outcomes: Sequence[str], seconds: float) -> None:
        """The service's batch call handled (record, event) pairs in `seconds`: each record waited that long."""
        ends = Counter((rec.topic, event.type, outcome) for (rec, event), outcome in zip(batch, outcomes, strict=True))
        for (topic, type_, outcome), count in ends.items():  # one increment per kind of end, not per record
            self.handled(topic, type_, outcome, count)
        for topic, count in Counter(rec.topic for rec, _ in batch).items():
            latency = self._child(HANDLING_SECONDS, topic, "record")
            for _ in range(count):
                latency.observe(seconds)

    def batch_took(self, seconds: float) -> None:
        """A fetched batch of the subscription was handled (committed or rewound) in `seconds`."""
        self._child(HANDLING_SECONDS, self._subscription, "batch").observe(seconds)
