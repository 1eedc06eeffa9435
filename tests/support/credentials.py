"""The test stack's Kafka principals: every client of the tests connects as one of them (SASL/SCRAM)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

USERS: dict[str, str] = {}  # principal -> password; filled by the session's `stack` fixture (empty: no SASL)
MECHANISM = "SCRAM-SHA-512"
ADMIN = "admin"


def options(principal: str = ADMIN) -> dict[str, Any]:
    """aiokafka client options of `principal` (nothing when the stack runs without SASL)."""
    if not USERS:
        return {}
    return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": MECHANISM,
            "sasl_plain_username": principal, "sasl_plain_password": USERS[principal]}


def env(principal: str = ADMIN) -> dict[str, str]:
    """Environment (Settings) of a process that connects as `principal`."""
    if not USERS:
        return {}
    return {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": MECHANISM,
            "KAFKA_SASL_USERNAME": principal, "KAFKA_SASL_PASSWORD": USERS[principal]}


def settings_fields(principal: str = ADMIN) -> dict[str, str]:
    """Settings keyword arguments of a client that connects as `principal`."""
    return {key.lower(): value for key, value in env(principal).items()}


def principal_of_service(name: str) -> str:
    """The principal a service process runs as (`portal_sync` -> `portal-sync`); the admin for anything else."""
    principal = name.replace("_", "-")
    return principal if principal in USERS else ADMIN


@contextmanager
def using(users: dict[str, str]) -> Iterator[None]:
    """Connect as the principals of another stack (a test's own LocalStack) for a while, then as before."""
    saved = dict(USERS)
    USERS.clear()
    USERS.update(users)
    try:
        yield
    finally:
        USERS.clear()
        USERS.update(saved)
