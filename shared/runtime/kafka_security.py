"""Client security (SASL, TLS) of every Kafka client: services, topic creation, event-log readers, tests, benches.

One place turns settings or environment into aiokafka keyword arguments (`client_options`), or into a
FastStream security object (`faststream_security`), so a managed Kafka needs nothing but environment.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


@dataclass(frozen=True)
class KafkaSecurity:
    """How a client reaches the brokers: protocol, SASL credentials, TLS files."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = ""
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL {self.protocol!r} is not one of {', '.join(PROTOCOLS)}")
        if self.sasl and self.mechanism not in MECHANISMS:
            raise ValueError(f"KAFKA_SASL_MECHANISM {self.mechanism!r} is not one of {', '.join(MECHANISMS)}")
        if self.sasl and not (self.username and self.password):
            raise ValueError(f"{self.protocol} needs a SASL user name and password")

    @property
    def sasl(self) -> bool:
        """True when the client authenticates with SASL."""
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        """True when the connection is encrypted."""
        return self.protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context (CA bundle, optional client certificate), or None without TLS."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.cafile)
        if self.certfile:
            context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        opts: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            opts["ssl_context"] = self.ssl_context()
        if self.sasl:
            opts.update(sasl_mechanism=self.mechanism, sasl_plain_username=self.username,
                        sasl_plain_password=self.password)
        return opts


def from_settings(settings: Any) -> KafkaSecurity:
    """The security of a service from its Settings (`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`, `KAFKA_SSL_*`)."""
    return KafkaSecurity(settings.kafka_security_protocol, settings.kafka_sasl_mechanism, settings.kafka_sasl_username,
                         settings.kafka_sasl_password, settings.kafka_ssl_cafile, settings.kafka_ssl_certfile,
                         settings.kafka_ssl_keyfile)


def env_prefix(principal: str) -> str:
    """Environment prefix of a principal's credentials: `crm` -> `CRM_KAFKA_`, `portal-sync` -> `PORTAL_SYNC_KAFKA_`."""
    return principal.upper().replace("-", "_").replace(".", "_") + "_KAFKA_"


def for_principal(principal: str | None = None, environ: Mapping[str, str] | None = None) -> KafkaSecurity:
    """The security of `principal` from the environment (e.g. `.local/stack.env`).

    Its credentials are `<PRINCIPAL>_KAFKA_USERNAME`/`_PASSWORD`; without a principal, `KAFKA_SASL_USERNAME`/
    `_PASSWORD`. Protocol, mechanism and TLS files are `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_MECHANISM`, `KAFKA_SSL_*`.
    """
    env = os.environ if environ is None else environ
    user_key, password_key = ((env_prefix(principal) + "USERNAME", env_prefix(principal) + "PASSWORD") if principal
                              else ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"))
    return KafkaSecurity(env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"), env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
                         env.get(user_key, ""), env.get(password_key, ""), env.get("KAFKA_SSL_CAFILE") or None,
                         env.get("KAFKA_SSL_CERTFILE") or None, env.get("KAFKA_SSL_KEYFILE") or None)


def client_options(principal: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One call for any aiokafka client of `principal` (e.g. `crm`): `AIOKafkaProducer(**client_options("crm"), ...)`."""
    return for_principal(principal, environ).options()


def settings_options(settings: Any) -> dict[str, Any]:
    """aiokafka keyword arguments for a client of a service (its Settings)."""
    return from_settings(settings).options()


def faststream_security(settings: Any) -> Any:
    """The FastStream security object of a service's broker (None on PLAINTEXT)."""
    from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

    sec = from_settings(settings)
    if not sec.sasl:
        return BaseSecurity(ssl_context=sec.ssl_context(), use_ssl=sec.tls) if sec.tls else None
    kind = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}[sec.mechanism]
    return kind(sec.username, sec.password, ssl_context=sec.ssl_context(), use_ssl=sec.tls)
