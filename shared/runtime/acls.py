"""Who may do what on the broker: each principal's ACLs, derived from the topic names, and how they are created.

Each service reads its input topics with its own group and writes its output topics (and the `.dlq` of what
it consumes); intake alone writes `case.events`, approval alone `approval.events`, portal-sync alone
`portal.case-status`, routing alone `routing.events`, notifier alone `notification.events`. Each sending principal writes only its own
ingress topics (shared/data/principals.yaml); external systems read what mirrors their commands.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactArray, CompactString, Int8, Int16, Int32, Schema, TaggedFields

from shared.principals import Principals, ingress_topic, load_principals
from shared.runtime.kafka_security import settings_options
from shared.settings import COMMAND_TOPICS, Settings, Topics

# Kafka's enum codes (org.apache.kafka.common.resource / acl).
TOPIC, GROUP, CLUSTER = 2, 3, 4
LITERAL, PREFIXED = 3, 4
READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS, IDEMPOTENT_WRITE = 3, 4, 8, 10, 12
ALLOW = 3
CLUSTER_NAME = "kafka-cluster"
ACL_SETTLE_SECONDS = 0.5  # between probes of whether new ACLs are in force
SERVICES = ("intake", "approval", "routing", "portal-sync", "notifier")
EXTERNAL_READS = {  # external systems mirror what became of their commands
    "crm": ("case_events", "case_rejections", "approval_events"),
    "portal": ("portal_case_status", "case_rejections"),
}


@dataclass(frozen=True)
class Acl:
    """One ALLOW binding: principal (user name), operation on a resource."""

    principal: str
    operation: int
    resource_type: int
    name: str
    pattern: int = LITERAL


def _consumer(principal: str, topics: list[str], group: str, pattern: int = LITERAL) -> list[Acl]:
    return [Acl(principal, READ, TOPIC, t) for t in topics] + [Acl(principal, READ, GROUP, group, pattern)]


def _producer(principal: str, topics: list[str]) -> list[Acl]:
    return [Acl(principal, WRITE, TOPIC, t) for t in topics] + [Acl(principal, IDEMPOTENT_WRITE, CLUSTER, CLUSTER_NAME)]


def acls(topics: Topics, group_prefix: str = "", principals: Principals | None = None) -> list[Acl]:
    """Every ACL of the deployment whose topics are `topics` and whose consumer groups start with `group_prefix`."""
    policy = principals or load_principals()
    t, dlq = topics, Topics.dlq
    case_in, approval_in, routing_in = (list(t.ingress(kind)) for kind in COMMAND_TOPICS)
    out: list[Acl] = []
    reads = {  # service -> topics it consumes
        "intake": case_in, "approval": [t.case_events, *approval_in], "routing": [t.case_events, *routing_in],
        "portal-sync": [t.case_events], "notifier": [t.case_events, t.approval_events, t.routing_events],
    }
    writes = {  # service -> topics it publishes (its command ingress topics come from the policy below)
        "intake": [t.case_events, t.case_rejections], "approval": [t.approval_events, t.case_rejections],
        "routing": [t.routing_events, t.case_rejections], "portal-sync": [t.portal_case_status], "notifier": [t.notification_events],
    }
    for service in SERVICES:
        # It dead-letters what it cannot read (`<input>.dlq`) and outbox entries a topic refuses (`<output>.dlq`).
        own_ingress = [ingress_topic(getattr(t, kind), service)
                       for kind in (policy.senders[service].sends if service in policy.senders else [])]
        outputs = writes[service] + own_ingress
        out += _consumer(service, reads[service], f"{group_prefix}{service}")
        out += _producer(service, writes[service] + [dlq(name) for name in reads[service] + outputs])
        out += [Acl(service, DESCRIBE_CONFIGS, TOPIC, name) for name in reads[service] + writes[service]]
    for principal, sender in policy.senders.items():
        out += _producer(principal, [ingress_topic(getattr(t, kind), principal) for kind in sender.sends])
    for principal, kinds in EXTERNAL_READS.items():
        # Their own consumer groups are theirs to name, under their principal's name.
        out += _consumer(principal, [getattr(t, kind) for kind in kinds], f"{group_prefix}{principal}", PREFIXED)
    return list(dict.fromkeys(out))


class _CreateAclsResponse(Response):
    API_KEY, API_VERSION = 30, 3
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("results", CompactArray(("error_code", Int16), ("error_message", CompactString("utf-8")),
                                             ("tags", TaggedFields))),
                    ("tags", TaggedFields))


class _CreateAclsStruct(RequestStruct):
    # Kafka 4 serves CreateAcls v2+ only (flexible versions), which aiokafka does not define.
    FLEXIBLE_VERSION = True
    API_KEY, API_VERSION, RESPONSE_TYPE = 30, 3, _CreateAclsResponse
    SCHEMA = Schema(("creations", CompactArray(
        ("resource_type", Int8), ("resource_name", CompactString("utf-8")), ("resource_pattern_type", Int8),
        ("principal", CompactString("utf-8")), ("host", CompactString("utf-8")), ("operation", Int8),
        ("permission_type", Int8), ("tags", TaggedFields))), ("tags", TaggedFields))


class _CreateAcls(Request[_CreateAclsStruct]):
    API_KEY = 30

    def __init__(self, bindings: list[Acl]) -> None:
        self._bindings = bindings

    def build(self, request_struct_class: type[_CreateAclsStruct]) -> _CreateAclsStruct:
        return request_struct_class([(a.resource_type, a.name, a.pattern, f"User:{a.principal}", "*", a.operation,
                                      ALLOW, {}) for a in self._bindings], {})


async def create_acls(bootstrap_servers: str, bindings: list[Acl], security: dict | None = None) -> None:
    """Create `bindings` (idempotent: an existing ACL is created again as a no-op) as a super user."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="create-acls", **(security or {}))
    await admin.start()
    try:
        for start in range(0, len(bindings), 200):
            chunk = bindings[start:start + 200]
            response = await admin._send_request(_CreateAcls(chunk))  # noqa: SLF001  # no public call for it
            failed = [(a, r[1]) for a, r in zip(chunk, response.results, strict=True) if r[0]]
            if failed:
                raise RuntimeError("could not create ACLs: " + "; ".join(f"{a}: {msg}" for a, msg in failed[:5]))
    finally:
        await admin.close()



async def wait_until_effective(bootstrap_servers: str, security: dict, topic: str, timeout: float = 60.0) -> None:
    """Wait until a principal (its client `security`) may describe `topic`: its new ACLs are in force.

    ACLs reach each broker's authorizer through the metadata log, some time after the controller took them.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="acl-probe", **security)
        try:
            await admin.start()
            (described,) = await admin.describe_topics([topic])
            if not described.get("error_code"):
                return
        finally:
            await admin.close()
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"ACLs not in force after {timeout}s (describe {topic})")
        await asyncio.sleep(ACL_SETTLE_SECONDS)


def main() -> None:
    """CLI `python -m shared.runtime.acls`: create every principal's ACLs for the topics and groups the
    environment's settings name, as the client those settings describe (the admin: compose's create-acls,
    the k8s Job). Idempotent, so it runs on every `up` / apply. SCRAM users are not made here."""
    settings = Settings(service_name="create-acls")
    bindings = acls(settings.topics, settings.consumer_group_prefix)
    asyncio.run(create_acls(settings.kafka_bootstrap_servers, bindings, settings_options(settings)))
    print(f"created {len(bindings)} ACLs", flush=True)


if __name__ == "__main__":
    main()
