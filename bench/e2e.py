"""`make bench`, end to end: claim journeys through the whole local stack, beside raw Kafka on the same broker."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not bench/ itself (Python puts the script's folder first): bench/intake.py would hide the intake package.
sys.path[:] = [str(ROOT), str(ROOT / "deploy" / "local")] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from stack import LocalStack  # noqa: E402  (deploy/local)

from bench.e2e import report  # noqa: E402
from bench.e2e.run import Options, e2e_run  # noqa: E402


def parse() -> argparse.Namespace:
    """The flags; every figure of the run can be changed."""
    d = Options()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--burst", type=int, default=d.burst, help="journeys sent all at once (0: no burst)")
    p.add_argument("--rates", default=",".join(f"{r:g}" for r in d.rates), help="offered journeys/s, comma separated")
    p.add_argument("--seconds", type=float, default=d.seconds, help="how long each paced rate offers journeys")
    p.add_argument("--drain", type=float, default=d.drain, help="seconds a phase waits after its last start")
    p.add_argument("--step-timeout", type=float, default=d.step_timeout, help="seconds a command waits for its outcome")
    p.add_argument("--raw-n", type=int, default=d.raw_n, help="messages of the raw Kafka pass-through")
    p.add_argument("--warmup", type=int, default=d.warmup, help="journeys before measuring (not counted)")
    p.add_argument("--keep-going", action="store_true", help="run every rate even after one could not keep up")
    p.add_argument("--out", type=Path, default=ROOT / ".local" / "bench", help="folder of the plot and the JSON")
    p.add_argument("--keep", type=Path, default=None, help="keep the stack's data and logs in this folder")
    return p.parse_args()


def main() -> int:
    """Start the stack as `make run` does, run, print the tables, write the plot, stop everything by PID."""
    args = parse()
    opts = Options(args.burst, tuple(float(r) for r in args.rates.split(",") if r.strip()), args.seconds, args.drain,
                   args.step_timeout, args.raw_n, args.warmup, args.keep_going)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="e2e-") as tmp:
        state = args.keep or Path(tmp)
        stack = LocalStack(state / "stack", log_dir=state / "logs")
        t0 = time.monotonic()
        stack.start()
        print(f"stack up in {time.monotonic() - t0:.0f}s (logs in {state / 'logs'})", flush=True)
        try:
            out = asyncio.run(e2e_run(stack, opts, lambda line: print(line, flush=True)))
        finally:
            stack.stop()
    print(f"\nend to end: claim journeys (open with a cause, in_progress, waiting_for_feedback, customer message, "
          f"close completed); nproc={os.cpu_count()}, python={sys.version.split()[0]}")
    print("p50/p99: each command's send -> the portal.case-status record of the case version it produced (commands "
          "whose record exists); j/s: journeys whose Closed record was read, per second; machine shared with others\n")
    print(report.phases_table(out.rows))
    if out.skipped:
        print(f"rates not run (the previous one could not keep up; --keep-going runs them): {out.skipped}")
    print("\n" + report.steps_table(out.rows))
    print("\n" + report.processes_table(out.rows, out.rss))
    print("\n" + report.raw_line(out.raw, out.rows))
    report.write_json(out.rows, out.raw, args.out / "e2e.json")
    print(f"\nplot: {report.plot(out.rows, args.out / 'e2e-latency.png')}  figures: {args.out / 'e2e.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
