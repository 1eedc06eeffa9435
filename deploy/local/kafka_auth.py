"""The local stack's Kafka principals as environment: what clients, services and the launcher connect with."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from servers import ADMIN, MECHANISM, admin_security

from shared.runtime.acls import SERVICES, acls, create_acls, wait_until_effective
from shared.runtime.kafka_security import env_prefix
from shared.settings import Settings

CREDENTIALS = ("_KAFKA_USERNAME", "_KAFKA_PASSWORD")
# Processes of the stack: each gets its own password and nobody else does. `web` sends commands like an
# external system (a sender in principals.yaml) but is one of the stack's services.
STACK_PRINCIPALS = (*SERVICES, "web")
SECRET_PARTS = ("PASSWORD", "SECRET")


def client_env(users: Mapping[str, str]) -> dict[str, str]:
    """`.local/stack.env` entries: protocol, mechanism and `<PRINCIPAL>_KAFKA_USERNAME/PASSWORD` of each non-service."""
    env = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": MECHANISM}
    for name, password in users.items():
        if name not in STACK_PRINCIPALS:  # a service's password goes to its own processes only
            env.update({env_prefix(name) + "USERNAME": name, env_prefix(name) + "PASSWORD": password})
    return env


def as_principal(env: Mapping[str, str], users: Mapping[str, str], principal: str | None) -> dict[str, str]:
    """`env` without anyone's credentials, plus `principal`'s as the client's own (KAFKA_SASL_USERNAME/PASSWORD)."""
    out = {k: v for k, v in env.items() if not k.endswith(CREDENTIALS)}
    if principal and principal in users:
        out.update({"KAFKA_SASL_USERNAME": principal, "KAFKA_SASL_PASSWORD": users[principal]})
    return out


def grant_acls(bootstrap: str, users: Mapping[str, str], environ: Mapping[str, str]) -> int:
    """Create every principal's ACLs for the topics and groups the environment's settings name; returns how many."""
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in environ.items()  # type: ignore[call-arg]
                                           if k.startswith(("TOPIC_", "CONSUMER_GROUP_PREFIX"))})
    bindings = acls(settings.topics, settings.consumer_group_prefix)
    asyncio.run(create_acls(bootstrap, bindings, admin_security(dict(users))))
    crm = {**admin_security(dict(users)), "sasl_plain_username": "crm", "sasl_plain_password": users["crm"]}
    asyncio.run(wait_until_effective(bootstrap, crm, settings.topics.case_events))
    return len(bindings)


def masked(key: str, value: str) -> str:
    """A value fit to print: passwords hidden."""
    return "****" if any(part in key for part in SECRET_PARTS) else value


__all__ = ["ADMIN", "as_principal", "client_env", "grant_acls", "masked"]
