"""The exported contract: JSON Schemas current, AsyncAPI messages one envelope each, dataschema an absolute URI."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest
import yaml
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft202012Validator

from shared.contract.envelope import CloudEvent, new_event
from shared.contract.registry import message_types
from shared.runtime import contract_md, schema_docs
from shared.runtime.asyncapi_docs import DOCS as ASYNCAPI, built_services
from shared.settings import Topics

README_OPEN = {"specversion": "1.0", "id": "3f6c", "source": "/crm", "type": "case.open", "subject": "CASE-1",
               "data": {"case_type": "customer_request", "gbu": "lighting", "account_id": "ACC-1001",
                        "subject": "Custom packaging", "fields": {"request_type": "technical_information"},
                        "actor": {"id": "mary"}}}
ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def _doc(service: str) -> dict:
    return yaml.safe_load((ASYNCAPI / f"{service}.yaml").read_text())


def _payload_validator(doc: dict, address: str) -> Draft202012Validator:
    channel = next(c for c in doc["channels"].values() if c["address"] == address)
    ref = next(iter(channel["messages"].values()))["$ref"]
    message = doc["components"]["messages"][unquote(ref.rsplit("/", 1)[-1])]
    return Draft202012Validator({**doc, "$ref": message["payload"]["$ref"]})


def test_committed_schemas_are_what_the_contract_generates():
    files = {p.stem for p in schema_docs.DOCS.glob("*.json")}
    assert files == set(schema_docs.names()), "run `make schemas`"
    for name in schema_docs.names():
        text = (schema_docs.DOCS / f"{name}.json").read_text()
        assert text == schema_docs.render(name), f"run `make schemas` ({name})"


def test_contract_md_generated_tables_are_current_and_name_every_type_and_field():
    assert contract_md.write_or_check(check=True), "run `make schemas` (docs/contract.md's generated tables)"
    text = contract_md.PATH.read_text()
    assert [m.type for m in message_types() if f"`{m.type}`" not in text] == []
    fields = [(m.type, f.alias or name) for m in message_types() for name, f in m.data.model_fields.items()]
    assert [(type_, name) for type_, name in fields if f"`{name}`" not in text] == []
    for kind, name in Topics().model_dump().items():
        assert f"`{name}" in text, kind


def test_every_asyncapi_message_is_one_envelope_with_key_and_correlation():
    for service in built_services():
        doc = _doc(service)
        schemas = doc["components"]["schemas"]
        for name, message in doc["components"]["messages"].items():
            payload = schemas[unquote(message["payload"]["$ref"].rsplit("/", 1)[-1])]
            assert payload.get("type") != "array" and payload.get("format") != "binary", (service, name)
            assert message["correlationId"]["location"] == "$message.payload#/correlationid"
            assert message["bindings"]["kafka"]["key"]["type"] == "string", (service, name)
        for channel in doc["channels"].values():
            kafka = channel["bindings"]["kafka"]
            assert kafka["partitions"] >= 1 and kafka["topicConfiguration"]["max.message.bytes"] > 0, channel["address"]
    status = next(c for c in _doc("portal-sync")["channels"].values() if c["address"] == Topics().portal_case_status)
    assert status["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"] == ["compact"]


def test_the_readme_case_open_validates_against_the_intake_document_and_a_bad_one_does_not():
    validator = _payload_validator(_doc("intake"), "case.commands.crm")
    assert list(validator.iter_errors(README_OPEN)) == []
    assert list(validator.iter_errors({**README_OPEN, "data": {"actor": {"id": "mary"}}}))  # no case_type...
    assert list(validator.iter_errors([README_OPEN]))  # the batch's array is not the contract


@pytest.mark.parametrize("message", message_types(), ids=lambda m: m.type)
def test_dataschema_is_the_absolute_uri_of_the_exported_schema(message):
    schema = json.loads((schema_docs.DOCS / f"{message.type}.json").read_text())
    Draft202012Validator.check_schema(schema)
    event = new_event(message.type, "CASE-1", {}, source="/tests")
    assert ABSOLUTE_URI.match(event.dataschema) and event.dataschema == schema["$id"]
    read = from_kafka(KafkaMessage({}, b"CASE-1", event.to_bytes()), JSONFormat())  # the CloudEvents SDK reads it
    assert read.get_dataschema() == event.dataschema and read.get_type() == message.type


def test_events_published_before_the_uri_are_still_read():
    legacy = new_event("case.opened", "CASE-1", {"case_id": "CASE-1"}, source="/services/intake").model_copy(
        update={"dataschema": "case-backbone/1"})
    assert CloudEvent.from_bytes(legacy.to_bytes()).dataschema == "case-backbone/1"
