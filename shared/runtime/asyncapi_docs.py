"""Writes the AsyncAPI document each FastStream app generates into docs/asyncapi/ (`make asyncapi`)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import yaml
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from shared.contract.version import CONTRACT_VERSION
from shared.runtime.asyncapi_contract import contract_document
from shared.runtime.doc_files import module_exists, write_or_check
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
    doc = contract_document(spec.to_specification().to_jsonable())
    # FastStream keeps publishers in a set, so key order varies between runs: sort for stable files.
    return yaml.safe_dump(doc, sort_keys=True, allow_unicode=True)


def built_services() -> list[str]:
    """The services whose package exists (planned ones are documented once built)."""
    return [s for s, target in SERVICES.items() if module_exists(target.split(":")[0])]


def main() -> int:
    """Write every service's document; with --check, fail if one is out of date instead."""
    return write_or_check(DOCS, ".yaml", built_services(), render, "asyncapi")


if __name__ == "__main__":
    sys.exit(main())
