"""Each principal's ACLs: owners alone write their topics, senders only their ingress topics (shared/runtime/acls.py)."""

from __future__ import annotations

from shared.runtime.acls import READ, TOPIC, WRITE, acls
from shared.runtime.kafka_security import KafkaSecurity, client_options, env_prefix
from shared.settings import Topics

import pytest

TOPICS = Topics()
ACLS = acls(TOPICS, "g-")


def writers(topic: str) -> set[str]:
    return {a.principal for a in ACLS if a.operation == WRITE and a.resource_type == TOPIC and a.name == topic}


def readers(topic: str) -> set[str]:
    return {a.principal for a in ACLS if a.operation == READ and a.resource_type == TOPIC and a.name == topic}


def test_owners_alone_write_their_topics():
    assert writers("case.events") == {"intake"}
    assert writers("approval.events") == {"approval"}
    assert writers("portal.case-status") == {"portal-sync"}
    assert writers("notification.events") == {"notifier"}
    assert writers("case.commands.crm") == {"crm"} and writers("case.commands.portal") == {"portal"}
    assert writers("case.commands") == set()  # the bare command topic is nobody's


def test_external_systems_read_what_mirrors_their_commands():
    assert "crm" in readers("case.events") and "crm" in readers("approval.events")
    assert "portal" in readers("portal.case-status") and "portal" not in readers("case.events")
    assert readers("case.commands.crm") == {"intake"}


def test_consumers_write_the_dead_letters_of_what_they_read():
    # readers dead-letter what they cannot read; intake, what the topic refuses from its outbox
    assert writers("case.events.dlq") == {"intake", "approval", "routing", "portal-sync", "notifier"}
    assert writers("case.commands.crm.dlq") == {"intake"}


def test_client_options_from_the_environment():
    env = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "CRM_KAFKA_USERNAME": "crm", "CRM_KAFKA_PASSWORD": "pw"}
    assert client_options("crm", env) == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                                          "sasl_plain_username": "crm", "sasl_plain_password": "pw"}
    assert client_options(None, {}) == {"security_protocol": "PLAINTEXT"}
    assert env_prefix("portal-sync") == "PORTAL_SYNC_KAFKA_"
    assert client_options(None, {"KAFKA_SECURITY_PROTOCOL": "SSL"})["ssl_context"] is not None


@pytest.mark.parametrize("bad", [dict(protocol="TLS"), dict(protocol="SASL_SSL"), dict(protocol="SASL_PLAINTEXT",
                                 username="a", password="b", mechanism="MD5")])
def test_bad_security_settings_are_refused(bad):
    with pytest.raises(ValueError):
        KafkaSecurity(**bad)
