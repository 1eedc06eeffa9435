"""The launcher's supervisor: a process that exits is started again with backoff, until stopped."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from processes import free_port  # deploy/local
from supervisor import Supervised

pytestmark = pytest.mark.integration

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def wait_for(check, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_killed_process_is_started_again_with_a_new_pid(tmp_path):
    proc = Supervised("sleeper", SLEEPER, dict(os.environ), log_file=tmp_path / "log").start()
    try:
        first = proc.pid
        assert first is not None
        proc.kill()  # SIGKILL, as a crash
        wait_for(lambda: proc.pid is not None)
        assert proc.pid != first
        assert proc.restarts == 1
        proc.kill(signal.SIGTERM)  # a clean exit is restarted too (unless-stopped)
        wait_for(lambda: proc.restarts == 2 and proc.pid is not None)
    finally:
        proc.stop()
    assert not proc.alive()


def test_a_process_that_keeps_crashing_is_restarted_with_growing_delays(tmp_path, capsys):
    crasher = [sys.executable, "-c", "raise SystemExit(3)"]
    proc = Supervised("crasher", crasher, dict(os.environ), first_delay=0.05, max_delay=0.2).start()
    try:
        wait_for(lambda: proc.restarts >= 4)
    finally:
        proc.stop()
    delays = [line.rsplit("restarting in ", 1)[1] for line in capsys.readouterr().out.splitlines()
              if line.startswith("[supervisor] crasher")]
    assert delays[:4] == ["0.05s", "0.1s", "0.2s", "0.2s"]  # doubling, capped


def test_stop_ends_the_process_and_no_restart_follows(tmp_path):
    proc = Supervised("sleeper", SLEEPER, dict(os.environ), first_delay=0.01).start()
    pid = proc.pid
    proc.stop()
    assert not proc.alive() and proc.restarts == 0
    time.sleep(0.2)  # a restart, if any, would have come by now (delay 0.01 s)
    assert proc.restarts == 0 and proc.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_waiting_for_a_process_that_cannot_start_gives_up_after_a_few_exits():
    crasher = [sys.executable, "-c", "raise SystemExit(3)"]
    nobody = f"http://127.0.0.1:{free_port()}/readyz"  # never answers: only the exits can end the wait early
    proc = Supervised("crasher", crasher, dict(os.environ), health_url=nobody, first_delay=0.01, max_delay=0.02).start()
    try:
        with pytest.raises(RuntimeError, match="exited"):
            proc.wait_healthy(60, max_exits=3)
    finally:
        proc.stop()
