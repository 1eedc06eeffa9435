"""Soak: claim journeys through the whole local stack at a steady rate, each process's RSS sampled throughout."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not bench/ itself (Python puts the script's folder first): bench/intake.py would hide the intake package.
sys.path[:] = [str(ROOT), str(ROOT / "deploy" / "local")] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from stack import LocalStack  # noqa: E402  (deploy/local)

from bench.e2e.claims import STEPS  # noqa: E402
from bench.e2e.soak import soak, table  # noqa: E402


def parse() -> argparse.Namespace:
    """The flags."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--commands", type=int, default=100_000, help=f"commands to send ({len(STEPS)} per journey)")
    p.add_argument("--rate", type=float, default=10, help="journeys started per second")
    p.add_argument("--every", type=float, default=10, help="seconds between RSS samples")
    p.add_argument("--in-flight", type=int, default=300, help="journeys running at once at most (the pace waits)")
    p.add_argument("--step-timeout", type=float, default=120, help="seconds a command waits for its outcome")
    p.add_argument("--keep", type=Path, default=None, help="keep the stack's data and logs in this folder")
    return p.parse_args()


def main() -> int:
    """Start the stack as `make run` does, soak it, print the RSS table, stop everything by PID."""
    args = parse()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        state = args.keep or Path(tmp)
        stack = LocalStack(state / "stack", log_dir=state / "logs")
        stack.start()
        print(f"stack up (logs in {state / 'logs'}); {args.commands} commands at {args.rate:g} journeys/s", flush=True)
        try:
            out = asyncio.run(soak(stack, args.commands, args.rate, args.every, args.in_flight, args.step_timeout,
                                   lambda line: print(line, flush=True)))
        finally:
            stack.stop()
    offered = args.rate * len(STEPS)
    print(f"\nsoak: {out.commands} commands in {out.seconds:.0f}s ({out.commands / out.seconds:.1f}/s, offered "
          f"{offered:g}/s); journeys: " + ", ".join(f"{n} {why}" for why, n in out.ended.items() if n)
          + (f"; {out.waits} starts waited for one of the {args.in_flight} slots" if out.waits else ""))
    print(f"RSS: start = before the first journey, warm = once {out.commands // 10} commands were sent "
          f"(t={out.samples[out.warm_at][0]:.0f}s), mid = half-way from there in time, end = after the last journey;\n"
          f"growth = end - warm; "
          f"{len(out.samples)} samples, every {args.every:g}s\n")
    print(table(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
