"""Child processes of the local stack: started with a label, stopped by PID, never orphaned."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """True when a server could listen on 127.0.0.1:port (connections in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        # Servers (Kafka, uvicorn) bind with SO_REUSEADDR; without it a just-killed server's port looks taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM if the launcher dies, even by SIGKILL, so nothing is left behind.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """A labelled child process whose output goes to a file, or is copied line by line to ours."""

    def __init__(self, label: str, argv: list[str], *, env: dict[str, str] | None = None,
                 log_file: Path | None = None, cwd: Path | None = None) -> None:
        self.label, self.argv, self.env, self.log_file, self.cwd = label, argv, env, log_file, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Child":
        """Start the process; its output goes to its log file, else to our stdout prefixed with the label."""
        sink = None
        if self.log_file:
            # Straight into the file: copying it line by line through us cost a wake-up, a read and a write
            # in this process for every line a busy service logs.
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            sink = open(self.log_file, "ab")  # noqa: SIM115  (the child holds it; ours is closed below)
        try:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=sink or subprocess.PIPE, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                # Own process group: a Ctrl-C reaches only the launcher, which stops services before Kafka.
                process_group=0,
            )
        finally:
            if sink:
                sink.close()
        if not sink:
            threading.Thread(target=self._pump, daemon=True).start()
        return self

    def _pump(self) -> None:
        assert self.proc and self.proc.stdout
        prefix = f"[{self.label}] ".encode()
        for line in self.proc.stdout:
            sys.stdout.buffer.write(prefix + line)
            sys.stdout.buffer.flush()

    @property
    def pid(self) -> int | None:
        """PID of the running process."""
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        """True while the process runs."""
        return bool(self.proc and self.proc.poll() is None)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`; by PID only."""
        if not self.alive():
            return
        assert self.proc
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL at once (crash tests)."""
        if self.alive():
            assert self.proc
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def wait_until(check: Callable[[], bool], timeout: float, what: str, child: Child | None = None) -> None:
    """Poll `check` until true; fail early if `child` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if child is not None and not child.alive():
            raise RuntimeError(f"{what}: process exited with code {child.proc.returncode if child.proc else '?'}")
        time.sleep(0.25)
    raise TimeoutError(f"{what}: not healthy after {timeout:.0f}s")


def http_ok(url: str) -> bool:
    """True when GET `url` answers 200 (a service's /health)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def python_env(extra: dict[str, str]) -> dict[str, str]:
    """Our environment plus `extra`, unbuffered so labelled logs interleave in real time."""
    env = dict(os.environ)
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env
