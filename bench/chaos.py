"""`make chaos`: 10,000 commands through the local stack while services, a broker, the store and SMTP fail."""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not bench/ itself (Python puts the script's folder first): bench/intake.py would hide the intake package.
sys.path[:] = [str(ROOT), str(ROOT / "deploy" / "local")] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from stack import LocalStack  # noqa: E402  (deploy/local)

from bench.chaos.report import render  # noqa: E402
from bench.chaos.run import Options, chaos_run  # noqa: E402


def main() -> int:
    """Start a stack in a temporary folder, run, print the tables, stop it; exit 1 when an invariant failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=10_000, help="commands to send (at least)")
    parser.add_argument("--brokers", type=int, default=3, help="Kafka nodes (3: one of them is killed)")
    parser.add_argument("--replicas", type=int, default=1, help="replicas of each service")
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault plan (random when omitted)")
    parser.add_argument("--rate", type=float, default=Options.rate, help="commands per second at most")
    parser.add_argument("--concurrency", type=int, default=Options.concurrency, help="journeys in flight")
    parser.add_argument("--keep", type=Path, default=None, help="keep the stack's data and logs in this folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a killed broker makes it very talkative
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    opts = Options(commands=args.commands, brokers=args.brokers, seed=seed, rate=args.rate,
                   concurrency=args.concurrency)
    print(f"chaos: seed {seed}, {args.commands} commands, {args.brokers} broker(s), {args.replicas} replica(s)",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        state = args.keep or Path(tmp)
        stack = LocalStack(state / "stack", brokers=args.brokers, replicas=args.replicas, log_dir=state / "logs")
        t0 = time.monotonic()
        stack.start()
        print(f"stack up in {time.monotonic() - t0:.0f}s (logs in {state / 'logs'})", flush=True)
        try:
            report = asyncio.run(chaos_run(stack, opts, lambda line: print(line, flush=True)))
        finally:
            stack.stop()
    print(render(report), flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
