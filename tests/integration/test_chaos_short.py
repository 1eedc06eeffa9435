"""The chaos run, short: a few hundred commands on one broker while each service, the store and SMTP fail once.

The three-broker variant (a broker killed too) is `make chaos`; it does not fit this test's time budget.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bench.chaos.report import render
from bench.chaos.run import Options, chaos_run

pytestmark = pytest.mark.integration


def test_a_short_chaos_run_keeps_every_invariant(tmp_path: Path):
    from stack import LocalStack  # deploy/local, on pytest's pythonpath

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    opts = Options(commands=300, brokers=1, seed=8, rate=30, concurrency=25, extra_kills=0, down_scale=0.3,
                   outcome_timeout=120, quiesce_timeout=120, quiet=5)
    stack = LocalStack(tmp_path / "stack", brokers=1, replicas=1, log_dir=tmp_path / "logs").start()
    try:
        report = asyncio.run(chaos_run(stack, opts))  # progress lines show with -s
    finally:
        stack.stop()
    text = render(report)
    print(text)
    kinds = {f.kind for f in report.faults}
    assert kinds == {"SIGKILL service", "SIGKILL store", "stop SMTP sink"}
    assert {f.target for f in report.faults if f.kind == "SIGKILL service"} == {
        "intake", "approval", "routing", "portal-sync", "notifier"}
    assert all(f.recovered_after is not None and not f.note.startswith("FAILED") for f in report.faults), text
    assert len(report.tally.sent) >= opts.commands
    assert report.failed == 0, text
