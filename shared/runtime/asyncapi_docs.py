"""Writes the AsyncAPI document each FastStream app generates into docs/asyncapi/ (`make asyncapi`)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import yaml
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from shared.contract.version import CONTRACT_VERSION
from shared.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"
# service name -> "module:function" that registers the service's handlers on a broker without I/O
SERVICES = {
    "intake": "intake.inject:document",
    "approval": "approval.inject:document",
    "routing": "routing.inject:document",
    "portal-sync": "portal_sync.inject:document",
    "notifier": "notifier.inject:document",
}


def render(service: str) -> str:
    """The AsyncAPI 3.0 YAML of one service, with default topic names."""
    module, func = SERVICES[service].split(":")
    broker = KafkaBroker("kafka:9092")
    getattr(importlib.import_module(module), func)(broker, Settings(service_name=service))
    spec = AsyncAPI(broker, title=f"case-backbone {service}", version=CONTRACT_VERSION,
                    description=f"Messages the {service} service consumes and publishes.")
    # FastStream keeps publishers in a set, so key order varies between runs: sort for stable files.
    return yaml.safe_dump(spec.to_specification().to_jsonable(), sort_keys=True, allow_unicode=True)


def built_services() -> list[str]:
    """The services whose package exists (planned ones are documented once built)."""
    return [s for s, target in SERVICES.items() if _exists(target.split(":")[0])]


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the service's package itself is missing
        return False


def main() -> int:
    """Write every service's document; with --check, fail if one is out of date instead."""
    check = "--check" in sys.argv
    stale = []
    DOCS.mkdir(parents=True, exist_ok=True)
    for service in built_services():
        path, text = DOCS / f"{service}.yaml", render(service)
        if check and (not path.exists() or path.read_text() != text):
            stale.append(path.name)
        elif not check:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)} (run `make asyncapi`)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
