"""The contract's generated artefacts stay in step with the code."""

from __future__ import annotations

from pathlib import Path

import yaml

from shared.contract.commands import COMMAND_TYPES
from shared.contract.events import EVENT_TYPES
from shared.runtime.asyncapi_docs import DOCS, built_services, render
from shared.settings import Topics

ROOT = Path(__file__).resolve().parents[2]


def test_committed_asyncapi_documents_are_what_the_apps_generate():
    for service in built_services():
        assert (DOCS / f"{service}.yaml").read_text() == render(service), f"run `make asyncapi` ({service})"


def test_intake_document_describes_every_topic_and_message_type():
    doc = yaml.safe_load((DOCS / "intake.yaml").read_text())
    ingress = set(Topics().ingress("case_commands"))  # one command topic per sending principal
    assert {c["address"] for c in doc["channels"].values()} == {
        "case.events", "case.rejections", *ingress, *(f"{t}.dlq" for t in ingress)}
    text = (DOCS / "intake.yaml").read_text()
    for type_ in [*COMMAND_TYPES, *EVENT_TYPES, "case.command_rejected"]:
        assert f"const: {type_}" in text or f"- {type_}" in text, type_


def test_contract_doc_names_every_message_type():
    text = (ROOT / "docs" / "contract.md").read_text()
    missing = [t for t in [*COMMAND_TYPES, *EVENT_TYPES, "case.command_rejected"] if f"`{t}`" not in text]
    assert missing == []
