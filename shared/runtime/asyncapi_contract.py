"""Turns FastStream's generated AsyncAPI into the contract: one envelope per message, Kafka key and topic bindings.

FastStream documents a batch subscriber's payload as an array and a raw-bytes subscriber's as binary; on the
wire every record is one CloudEvent. It knows nothing of keys or topic configs, and points `correlationId` at
a header the backbone does not write. This module rewrites the generated document from the contract's own
declarations (`shared.contract.registry`, `shared.runtime.create_topics`), so nothing is written twice.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from pydantic import TypeAdapter

from shared.contract.registry import topic_union
from shared.runtime.create_topics import MAX_MESSAGE_BYTES, common_configs, topic_specs
from shared.settings import COMMAND_TOPICS, Limits, Topics

BINDING_VERSION = "0.5.0"
CORRELATION = {"description": "The envelope's `correlationid`: shared by every message of one conversation.",
               "location": "$message.payload#/correlationid"}
REF_TEMPLATE = "#/components/schemas/{model}"


def topic_kinds(topics: Topics) -> dict[str, str]:
    """Topic name -> its `Topics` field, ingress topics of the command topics included (dead letters apart)."""
    kinds = {}
    for kind, name in topics.model_dump().items():
        for topic in (topics.ingress(kind) if kind in COMMAND_TOPICS else [name]):
            kinds[topic] = kind
    return kinds


def channel_binding(topic: str, topics: Topics, limits: Limits) -> dict[str, Any]:
    """The Kafka channel binding of `topic`: partitions and the configs the topic is created with."""
    spec = {s.name: s for s in topic_specs(topics)}.get(topic)
    binding: dict[str, Any] = {"topic": topic, "bindingVersion": BINDING_VERSION}
    if spec is None:
        return binding
    configs = {**common_configs(limits, 1), **spec.configs}
    config: dict[str, Any] = {"cleanup.policy": configs.get("cleanup.policy", "delete").split(","),
                              MAX_MESSAGE_BYTES: int(configs[MAX_MESSAGE_BYTES])}
    if "retention.ms" in configs:
        config["retention.ms"] = int(configs["retention.ms"])
    return {**binding, "partitions": spec.partitions, "topicConfiguration": config}


def key_schema(kind: str | None, limits: Limits) -> dict[str, Any]:
    """Schema of the Kafka key on a topic of `kind` (None: a dead-letter topic, keyed as the record received)."""
    if kind is None:
        return {"type": "string", "description": "The key of the dead-lettered record, as received."}
    return {"type": "string", "maxLength": limits.id_chars, "pattern": limits.case_id_pattern,
            "description": "The case id, equal to the envelope's `subject` (for `account.*`/`person.*` the "
                           "account or person id; for approval rules `approval-rules`)."}


def _schema(doc: dict, ref: str) -> tuple[str, dict]:
    name = unquote(ref.rsplit("/", 1)[-1])
    return name, doc["components"]["schemas"][name]


def _one_envelope(doc: dict, message: dict, kind: str | None) -> None:
    """Replace a batch's array, or a raw-bytes subscriber's binary, by the schema of one envelope."""
    ref = message.get("payload", {}).get("$ref")
    if not ref:
        return
    name, schema = _schema(doc, ref)
    if schema.get("type") == "array":
        schema = {k: v for k, v in schema["items"].items()} | {"title": schema.get("title", name)}
    if schema.get("format") == "binary" and kind is not None:
        generated = TypeAdapter(topic_union(kind)).json_schema(ref_template=REF_TEMPLATE)
        for def_name, definition in generated.pop("$defs", {}).items():
            doc["components"]["schemas"].setdefault(def_name, definition)
        # pydantic writes OpenAPI's discriminator object; an AsyncAPI schema's discriminator is the property name.
        schema = generated | {"title": name, "discriminator": generated["discriminator"]["propertyName"]} \
            if isinstance(generated.get("discriminator"), dict) else generated | {"title": name}
    doc["components"]["schemas"][name] = schema


def contract_document(doc: dict, topics: Topics | None = None, limits: Limits | None = None) -> dict:
    """The generated AsyncAPI 3.0 document `doc`, rewritten in place to the wire contract; returns it."""
    topics, limits = topics or Topics(), limits or Limits()
    kinds = topic_kinds(topics)
    messages = doc.get("components", {}).get("messages", {})
    for channel in doc.get("channels", {}).values():
        address = channel["address"]
        channel["bindings"] = {"kafka": channel_binding(address, topics, limits)}
        kind = kinds.get(address)
        for ref in channel.get("messages", {}).values():
            message = messages[unquote(ref["$ref"].rsplit("/", 1)[-1])]
            message["correlationId"] = dict(CORRELATION)
            message["bindings"] = {"kafka": {"key": key_schema(kind, limits), "bindingVersion": BINDING_VERSION}}
            _one_envelope(doc, message, kind)
    return doc
