"""`make run`: genuine Kafka, the store and every service, in the foreground, until Ctrl-C."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import sys
import threading

from processes import Child, free_port, http_ok, python_env, wait_until
from servers import ROOT, Kafka, MongoWire
from smtp_sink import SmtpSink

# Services in start order: (label, python module). A module not built yet is skipped.
SERVICES = [("intake", "intake"), ("approval", "approval"), ("routing", "routing"),
            ("portal-sync", "portal_sync"), ("notifier", "notifier")]
STATE = ROOT / ".local"


def _runnable(module: str) -> bool:
    """True when `python -m module` exists (planned services have no __main__ yet)."""
    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ModuleNotFoundError:
        return False


def _create_topics(env: dict[str, str]) -> None:
    child = Child("create-topics", [sys.executable, "-m", "shared.runtime.create_topics"], env=env).start()
    assert child.proc
    if child.proc.wait(120) != 0:
        raise RuntimeError("topic creation failed")


def main() -> int:
    """Start everything, write .local/stack.env, wait for a signal, stop everything."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # start-up probes fail until Kafka listens
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    started: list = []
    try:
        kafka_url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        mongo_url = os.environ.get("MONGODB_URL")
        if not kafka_url:
            started.append(Kafka(STATE / "stack" / "kafka").start())
            kafka_url = started[-1].bootstrap
        if not mongo_url:
            started.append(MongoWire(STATE / "stack" / "store").start())
            mongo_url = started[-1].url
        smtp_host, smtp_port = os.environ.get("SMTP_HOST"), os.environ.get("SMTP_PORT", "25")
        smtp_lines = []
        if not smtp_host:  # a real SMTP server on loopback that keeps every mail as a file for inspection
            started.append(SmtpSink(STATE / "stack" / "smtp").start())
            smtp_host, smtp_port = "127.0.0.1", str(started[-1].port)
            smtp_lines = [f"SMTP_MAILDIR={started[-1].maildir}"]
        env = python_env({"KAFKA_BOOTSTRAP_SERVERS": kafka_url, "MONGODB_URL": mongo_url,
                          "SMTP_HOST": smtp_host, "SMTP_PORT": smtp_port})
        _create_topics(env)
        lines = [f"KAFKA_BOOTSTRAP_SERVERS={kafka_url}", f"MONGODB_URL={mongo_url}",
                 f"SMTP_HOST={smtp_host}", f"SMTP_PORT={smtp_port}", *smtp_lines]
        addresses: dict[str, str] = {}  # each started service's address, for the services after it
        for label, module in SERVICES:
            if not _runnable(module):
                continue
            port = free_port()
            child = Child(label, [sys.executable, "-m", module],
                          env={**env, "SERVICE_NAME": label, "HTTP_PORT": str(port),
                               "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", **addresses}).start()
            started.append(child)
            wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/health"), 60, label, child)
            lines.append(f"{module.upper()}_HTTP=http://127.0.0.1:{port}")
            addresses[f"{module.upper()}_HTTP"] = f"http://127.0.0.1:{port}"
        (STATE / "stack.env").write_text("\n".join(lines) + "\n")
        print("\nstack is up; addresses in .local/stack.env:\n  " + "\n  ".join(lines))
        print("use them with:  set -a; . .local/stack.env; set +a      (Ctrl-C stops everything)\n", flush=True)
        while not stop.wait(1):
            dead = [c.label for c in started if isinstance(c, Child) and not c.alive()]
            if dead:
                print(f"stopping: {', '.join(dead)} exited", flush=True)
                return 1
        return 0
    finally:
        for part in reversed(started):
            part.stop()
        (STATE / "stack.env").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
