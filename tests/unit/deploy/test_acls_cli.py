"""`python -m shared.runtime.acls` (compose's create-acls, the k8s Job): every ACL, as the configured client."""

from __future__ import annotations

import pytest

from shared.runtime import acls as acls_module
from shared.settings import Settings


@pytest.fixture
def created(monkeypatch) -> list:
    calls: list = []

    async def fake_create_acls(bootstrap, bindings, security=None):
        calls.append((bootstrap, bindings, security))

    monkeypatch.setattr(acls_module, "create_acls", fake_create_acls)
    return calls


def test_main_creates_every_acl_of_the_settings_as_the_configured_client(monkeypatch, created, capsys):
    env = {"KAFKA_BOOTSTRAP_SERVERS": "kafka:19092", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
           "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "admin", "KAFKA_SASL_PASSWORD": "pw",
           "TOPIC_CASE_EVENTS": "x.case.events", "CONSUMER_GROUP_PREFIX": "g-"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    acls_module.main()
    ((bootstrap, bindings, security),) = created
    settings = Settings()
    assert bootstrap == "kafka:19092"
    assert bindings == acls_module.acls(settings.topics, "g-")  # the environment's topic names and groups
    assert any(b.name == "x.case.events" and b.principal == "intake" for b in bindings)
    assert security == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                        "sasl_plain_username": "admin", "sasl_plain_password": "pw"}
    assert f"created {len(bindings)} ACLs" in capsys.readouterr().out


def test_main_refuses_sasl_without_credentials(monkeypatch, created):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.delenv("KAFKA_SASL_USERNAME", raising=False)
    monkeypatch.delenv("KAFKA_SASL_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="user name and password"):
        acls_module.main()
    assert created == []
