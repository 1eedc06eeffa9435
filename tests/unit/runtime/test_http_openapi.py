"""The committed OpenAPI documents are what the routers generate, and they say which operations need a token."""

from __future__ import annotations

import json

from shared.runtime.api.openapi_docs import DOCS, documented_services, render


def test_committed_openapi_documents_are_what_the_routers_generate():
    services = documented_services()
    assert {"routing", "portal-sync", "notifier", "approval"} <= set(services)
    for service in services:
        assert (DOCS / f"{service}.json").read_text() == render(service), f"run `make openapi` ({service})"


def test_every_operation_but_approvals_links_needs_a_bearer_token():
    for service in ("routing", "portal-sync", "notifier"):
        doc = json.loads((DOCS / f"{service}.json").read_text())
        assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
        for path, operations in doc["paths"].items():
            for method, operation in operations.items():
                assert operation["security"] == [{"HTTPBearer": []}], (service, method, path)
                assert "401" in operation["responses"], (service, method, path)
    links = json.loads((DOCS / "approval.json").read_text())
    # the link token is the key of the link routes; the list of approvals waiting for a person needs a bearer token
    assert all("security" not in op for path, ops in links["paths"].items() if path != "/approvals/waiting"
               for op in ops.values())
    assert links["paths"]["/approvals/waiting"]["get"]["security"] == [{"HTTPBearer": []}]
