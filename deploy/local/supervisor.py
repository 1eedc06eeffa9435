"""A service process restarted with exponential backoff whenever it exits (compose's `restart: unless-stopped`)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from processes import Child, http_ok, wait_until

FIRST_DELAY, MAX_DELAY = 0.5, 30.0
# A process that ran this long is taken as healthy again: its next crash restarts after FIRST_DELAY.
HEALTHY_AFTER = 60.0


class Supervised:
    """One supervised service process: restarted after any exit until `stop()`; `kill()` plays a crash."""

    def __init__(self, label: str, argv: list[str], env: dict[str, str], *, health_url: str | None = None,
                 log_file: Path | None = None, first_delay: float = FIRST_DELAY, max_delay: float = MAX_DELAY,
                 healthy_after: float = HEALTHY_AFTER) -> None:
        self.label, self.argv, self.env, self.health_url, self.log_file = label, argv, env, health_url, log_file
        self.first_delay, self.max_delay, self.healthy_after = first_delay, max_delay, healthy_after
        self.restarts = 0  # how many times the supervisor started it again
        self.exits = 0  # how many times it exited while supervised
        self._child: Child | None = None
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        """PID of the current process (None before start, and between an exit and its restart)."""
        child = self._child
        return child.pid if child and child.alive() else None

    def alive(self) -> bool:
        """True while a process runs."""
        return bool(self._child and self._child.alive())

    def start(self) -> "Supervised":
        """Start the process and the thread that restarts it."""
        self._stopping.clear()
        self._spawn()
        self._thread = threading.Thread(target=self._watch, name=f"supervise-{self.label}", daemon=True)
        self._thread.start()
        return self

    def _spawn(self) -> None:
        self._started_at = time.monotonic()
        self._child = Child(self.label, self.argv, env=self.env, log_file=self.log_file).start()

    def healthy(self) -> bool:
        """True when its health URL answers 200 (or, without one, while it runs)."""
        return http_ok(self.health_url) if self.health_url else self.alive()

    def wait_healthy(self, timeout: float = 120, max_exits: int | None = None) -> None:
        """Wait until healthy (restarts included); more than `max_exits` exits meanwhile raise (it cannot start)."""
        exits = self.exits

        def healthy() -> bool:
            if max_exits is not None and self.exits - exits > max_exits:
                raise RuntimeError(f"{self.label}: exited {self.exits - exits} times while starting")
            return self.healthy()

        wait_until(healthy, timeout, self.label)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the current process (by PID) and wait until it has exited; the supervisor restarts it."""
        with self._lock:
            child, exits = self._child, self.exits
        if not child or not child.alive() or not child.proc:
            return
        child.proc.send_signal(sig)
        with self._lock:
            self._lock.wait_for(lambda: self.exits > exits, timeout=30)

    def _watch(self) -> None:
        delay = self.first_delay
        while True:
            child = self._child
            assert child and child.proc
            code = child.proc.wait()
            ran = time.monotonic() - self._started_at
            with self._lock:
                self.exits += 1
                self._lock.notify_all()
                if self._stopping.is_set():
                    return
            if ran >= self.healthy_after:
                delay = self.first_delay
            print(f"[supervisor] {self.label} (pid {child.pid}) exited with code {code} after {ran:.1f}s; "
                  f"restarting in {delay:g}s", flush=True)
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()
                self.restarts += 1
            delay = min(delay * 2, self.max_delay)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop supervising, then stop the process (SIGTERM, SIGKILL after `timeout`)."""
        with self._lock:
            self._stopping.set()
            child = self._child
        if child:
            child.stop(timeout)
        if self._thread:
            self._thread.join(timeout)
