"""Writes each service's OpenAPI document into docs/openapi/ (`make openapi`); `--check` fails when one is stale."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from shared.runtime.api.app import api_app
from shared.runtime.doc_files import module_exists, write_or_check

DOCS = Path(__file__).resolve().parents[3] / "docs" / "openapi"
# service name -> "module:function" returning the service's FastAPI routers without any I/O
SERVICES = {
    "intake": "intake.adapters.inbound.http:document",
    "approval": "shared.runtime.api.openapi_docs:approval_routers",
    "routing": "routing.adapters.inbound.http:document",
    "portal-sync": "portal_sync.adapters.inbound.http:document",
    "notifier": "notifier.adapters.inbound.http:document",
}


def approval_routers() -> list[Any]:
    """Approval's routes (waiting, links), built without store, linker or broker: nothing is called."""
    from approval.adapters.inbound.http import approval_routes
    from approval.adapters.inbound.waiting import waiting_routes
    from shared.auth import Auth

    return [waiting_routes(None, None, Auth(None, quiet=True)),  # type: ignore[arg-type]
            approval_routes(None, None, None, None, None)]  # type: ignore[arg-type]


def spec(service: str) -> dict[str, Any]:
    """The OpenAPI document of one service's HTTP API."""
    module, func = SERVICES[service].split(":")
    routers = getattr(importlib.import_module(module), func)()
    return api_app(f"case-backbone {service}", routers,
                   description=f"The HTTP API of the {service} service. Every operation but the probes "
                               "(/livez, /readyz, /health) needs a bearer token from the OIDC issuer.").openapi()


def render(service: str) -> str:
    """The document as the committed file holds it."""
    return json.dumps(spec(service), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def documented_services() -> list[str]:
    """The services whose routers can be built for the document."""
    return [s for s, target in SERVICES.items() if _has(target)]


def _has(target: str) -> bool:
    module, func = target.split(":")
    return module_exists(module) and hasattr(importlib.import_module(module), func)


def main() -> int:
    """Write every service's document; with --check, fail if one is out of date instead."""
    return write_or_check(DOCS, ".json", documented_services(), render, "openapi")


if __name__ == "__main__":
    sys.exit(main())
