"""The shutdown order of every service app: consumers drain, loops flush, broker stops, stores close."""

from __future__ import annotations

from shared.runtime.app import create_app, create_broker
from shared.settings import Settings


class Recorder:
    """A background loop that notes when it starts and stops."""

    def __init__(self, name: str, events: list[str]) -> None:
        self.name, self._events, self.running = name, events, False

    async def start(self) -> None:
        self.running = True
        self._events.append(f"start {self.name}")

    async def stop(self) -> None:
        self.running = False
        self._events.append(f"stop {self.name}")


async def test_consumers_drain_then_loops_flush_in_reverse_then_broker_stops_then_the_store_closes(monkeypatch):
    events: list[str] = []
    broker = create_broker(Settings(kafka_bootstrap_servers="127.0.0.1:9"))

    @broker.subscriber("t", group_id="g")
    async def handle(body: bytes) -> None:  # noqa: ARG001
        pass

    subscriber = broker.subscribers[0]
    stop_subscriber = subscriber.stop

    async def draining() -> None:
        events.append("consumer stopped again" if "consumers drained" in events else "consumers drained")
        await stop_subscriber()

    monkeypatch.setattr(subscriber, "stop", draining)
    stop_broker = broker.stop

    async def broker_stop(*args) -> None:
        await stop_broker(*args)
        events.append("broker stopped")

    monkeypatch.setattr(broker, "stop", broker_stop)

    async def close_store() -> None:
        events.append("store closed")

    relay, marks = Recorder("relay", events), Recorder("marks", events)
    app = create_app(broker, background=[relay, marks], after_shutdown=[close_store])
    for hook in app._after_startup_calling:
        await hook()
    await app.stop()  # what FastStream runs on SIGTERM: on_shutdown hooks, broker.stop(), after_shutdown hooks
    assert events == ["start relay", "start marks", "consumers drained", "stop marks", "stop relay",
                      "consumer stopped again", "broker stopped", "store closed"]
