"""`bench/e2e.py` with tiny figures on a real stack: it finishes, prints its tables and writes its plot.

No figure is asserted (the machine is shared); only that the bench runs end to end and stops what it started.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_the_e2e_bench_runs_with_tiny_figures(tmp_path: Path):
    argv = [sys.executable, str(ROOT / "bench" / "e2e.py"), "--burst", "5", "--rates", "2", "--seconds", "3",
            "--raw-n", "50", "--warmup", "1", "--drain", "40", "--step-timeout", "30", "--out", str(tmp_path)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for heading in ("burst 5", "2/s", "case.close", "portal-sync", "store", "raw Kafka pass-through"):
        assert heading in done.stdout, heading
    assert (tmp_path / "e2e-latency.png").stat().st_size > 0
    phases = json.loads((tmp_path / "e2e.json").read_text())["phases"]
    assert [p["name"] for p in phases] == ["burst 5", "2/s"]
