"""Environment for a service process under test."""

from __future__ import annotations

import os

from shared.settings import Settings
from tests.support import credentials
from tests.support.oidc import oidc_env


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment that points a service process at these settings."""
    env = dict(os.environ)
    # Its own principal's credentials (ServiceProcess sets them again for the module it starts).
    principal = credentials.principal_of_service(extra.get("SERVICE_NAME") or settings.service_name)
    env.update(credentials.env(principal))
    env.update({
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "MONGODB_URL": settings.mongodb_url,
        "MONGODB_DATABASE": settings.mongodb_database, "TOPIC_PREFIX": settings.topic_prefix,
        "CONSUMER_GROUP_PREFIX": settings.consumer_group_prefix, "OUTBOX_SWEEP_SECONDS": str(settings.outbox_sweep_seconds),
        "PYTHONUNBUFFERED": "1", "DEV_MODE": "true", **oidc_env(), **extra,
    })
    return env
