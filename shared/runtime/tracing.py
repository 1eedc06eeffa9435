"""Tracing across Kafka: the W3C trace context rides in each envelope's `traceparent`/`tracestate`.

A consumer continues the trace of every message it handles with a span of its own (one per message,
even inside a batch, so one trace id runs from a command to all its effects); an envelope built while
that span is current carries the span's context (`stamp`, called by `OutboxEntry.of`), and the outbox
keeps the envelope's exact bytes, so a relay sending it after a crash sends the context too.
Off (the default), OpenTelemetry's tracer stays the no-op one and is not even called: a received
context is passed on unchanged through a context variable. See docs/operations.md, "Tracing".
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.contract.envelope import TRACEPARENT, CloudEvent
from shared.settings import Settings

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER = trace.get_tracer("case-backbone")  # a proxy: real once `configure` installs a provider
_state = {"on": False}
# Off, a received context is passed on as it came (traceparent, tracestate): kept here, cheaper than the no-op tracer.
_passing: ContextVar[tuple[str, str | None] | None] = ContextVar("traceparent_passed_on", default=None)


def configure(settings: Settings) -> None:
    """Install the exporter the settings name (`off`: nothing, the no-op tracer stays)."""
    chosen = settings.tracing
    if chosen.exporter == "off" or _state["on"]:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    if chosen.exporter == "console":
        out = open(chosen.file, "a", buffering=1, encoding="utf-8") if chosen.file else sys.stdout  # noqa: SIM115
        # One line a span, written as it ends: a local aid, read by people and by the integration test.
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(
            out=out, formatter=lambda span: span.to_json(indent=None) + "\n")))
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise RuntimeError("TRACING__EXPORTER=otlp needs the `otlp` extra: "
                               "pip install 'case-backbone[otlp]'") from exc
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=chosen.endpoint or None)))
    trace.set_tracer_provider(provider)
    _state["on"] = True


def enabled() -> bool:
    """Whether spans are recorded and exported in this process."""
    return _state["on"]


def context_of(traceparent: str | None, tracestate: str | None = None) -> otel_context.Context | None:
    """The trace context a stored or received `traceparent` names; None if absent (a malformed one is ignored)."""
    if not traceparent or TRACEPARENT.fullmatch(traceparent) is None:  # the envelope's rule (no padding)
        return None
    carrier = {"traceparent": traceparent, **({"tracestate": tracestate} if tracestate else {})}
    ctx = _PROPAGATOR.extract(carrier)
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


@contextmanager
def span(name: str, parent: str | None = None, *, kind: SpanKind = SpanKind.INTERNAL,
         attributes: dict[str, Any] | None = None) -> Iterator[None]:
    """A span under the context `parent` names (a new trace without one); current while the block runs."""
    if not _state["on"]:
        with _passed_on(parent if context_of(parent) else None, None):
            yield
        return
    with _TRACER.start_as_current_span(name, context=context_of(parent), kind=kind, attributes=attributes):
        yield


@contextmanager
def _passed_on(traceparent: str | None, tracestate: str | None) -> Iterator[None]:
    """Off: what is built inside carries the received context unchanged (nothing, if there was none)."""
    token = _passing.set((traceparent, tracestate) if traceparent else None)
    try:
        yield
    finally:
        _passing.reset(token)


@contextmanager
def handling(event: CloudEvent, action: str = "process") -> Iterator[None]:
    """The consumer's span of one message: a child of the message's own context, named `<type> <action>`."""
    if not _state["on"]:
        with _passed_on(event.traceparent, event.tracestate):
            yield
        return
    ctx = context_of(event.traceparent, event.tracestate)
    attributes = {"messaging.system": "kafka", "messaging.operation.type": action,
                  "messaging.message.id": event.id, "messaging.kafka.message.key": event.subject or "",
                  "cloudevents.event_type": event.type}
    with _TRACER.start_as_current_span(f"{event.type} {action}", context=ctx, kind=SpanKind.CONSUMER,
                                       attributes=attributes):
        yield


def current_traceparent() -> str | None:
    """The `traceparent` of the current span (None outside any), to keep with work done later."""
    if not _state["on"]:
        passed = _passing.get()
        return passed[0] if passed else None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def stamp(event: CloudEvent) -> CloudEvent:
    """`event` carrying the current span's context; unchanged outside any span."""
    if not _state["on"]:
        passed = _passing.get()
        if passed is None or passed[0] == event.traceparent:
            return event
        return event.model_copy(update={"traceparent": passed[0], "tracestate": passed[1]})
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    if "traceparent" not in carrier or carrier["traceparent"] == event.traceparent:
        return event
    return event.model_copy(update={"traceparent": carrier["traceparent"], "tracestate": carrier.get("tracestate")})
