"""Prometheus file_sd targets of the local stack (`make run`) from `.local/stack.env`'s `<SERVICE>_HTTP` addresses.

    python deploy/observability/local_targets.py [.local/stack.env] [.local/prometheus-targets.json]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = re.compile(r"^([A-Z_]+?)_HTTP(?:_(\d+))?=https?://([^/\s]+)/?$")


def targets(env_text: str) -> list[dict]:
    """One file_sd group per service replica address found in the env file."""
    groups = []
    for line in env_text.splitlines():
        match = ADDRESS.match(line.strip())
        if match:
            service = match.group(1).lower().replace("_", "-")
            groups.append({"targets": [match.group(3)], "labels": {"replica": match.group(2) or "1",
                                                                  "stack_service": service}})
    return groups


def main(argv: list[str]) -> None:
    """Write the targets file Prometheus' `case-backbone-local` job reads."""
    source = Path(argv[0]) if argv else ROOT / ".local" / "stack.env"
    out = Path(argv[1]) if len(argv) > 1 else ROOT / ".local" / "prometheus-targets.json"
    out.write_text(json.dumps(targets(source.read_text()), indent=2) + "\n")
    print(f"{out}: {sum(len(g['targets']) for g in targets(source.read_text()))} targets")


if __name__ == "__main__":
    main(sys.argv[1:])
