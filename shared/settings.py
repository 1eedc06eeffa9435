"""Settings every service reads from the environment (pydantic-settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


COMMAND_TOPICS = ("case_commands", "approval_commands", "routing_commands")  # read via ingress topics


class Topics(BaseModel):
    """Topic names; each can be renamed with env `TOPIC_<NAME>` (e.g. `TOPIC_CASE_EVENTS`)."""

    case_commands: str = Field("case.commands", description="Commands in: case.*, account.upsert and person.upsert.")
    case_events: str = Field("case.events", description="Facts about cases, keyed by case id.")
    case_rejections: str = Field("case.rejections", description="Commands refused, with code and reason.")
    approval_commands: str = Field("approval.commands", description="Approver decisions and delegations.")
    approval_events: str = Field("approval.events", description="Approval steps requested and decided.")
    portal_case_status: str = Field("portal.case-status", description="Compacted: one record per case for the portal.")
    notification_events: str = Field("notification.events", description="Outcome of each notification delivery.")
    routing_commands: str = Field("routing.commands", description="Routing's own commands: rules.upsert, routing.handover.")
    routing_events: str = Field("routing.events", description="Routing's facts: case time-frame reminders and escalations.")

    def prefixed(self, prefix: str) -> "Topics":
        """The same topics under a prefix; tests use it to isolate themselves."""
        return Topics(**{name: f"{prefix}{value}" for name, value in self.model_dump().items()})

    def ingress(self, kind: str) -> dict[str, str]:
        """Ingress topic -> its one writing principal, for the command topic `kind` (e.g. `case_commands`).

        A command topic is not written directly: each sending principal writes only `<topic>.<principal>`
        (an ACL), so the consumer knows who sent a command from the topic it came on.
        """
        from shared.principals import load_principals

        return load_principals().ingress(kind, getattr(self, kind))

    def sent_by(self, principal: str) -> "Topics":
        """These topics as `principal` writes them: each command topic is its own ingress topic of it."""
        from shared.principals import ingress_topic

        return self.model_copy(update={kind: ingress_topic(getattr(self, kind), principal) for kind in COMMAND_TOPICS})

    @staticmethod
    def dlq(topic: str) -> str:
        """Dead-letter topic of `topic`."""
        return f"{topic}.dlq"


# Key (an id), headers (content type, correlation id, a dead letter's reason) and batch framing.
BROKER_OVERHEAD_BYTES = 64 * 1024


class Limits(BaseModel):
    """Size limits every service enforces on what it reads and writes; env `LIMITS__<NAME>`.

    They are one set so that they agree end to end: a command under `command_bytes` yields events
    under `record_bytes`, which the producer (`max.request.size`) and every topic (`max.message.bytes`)
    accept.
    """

    record_bytes: int = Field(1_048_576, description="Largest record (value) any service produces or reads; "
                              "the producer's max.request.size and each topic's max.message.bytes derive from it.")
    command_bytes: int = Field(262_144, description="Largest command accepted; a bigger one is refused as "
                               "`too_large`, so the events it causes stay well under `record_bytes`.")
    text_chars: int = Field(20_000, description="Longest string anywhere in a message.")
    list_items: int = Field(1_000, description="Most items in any JSON array of a message.")
    json_depth: int = Field(32, description="Deepest nesting of JSON objects and arrays in a message.")
    case_bytes: int = Field(4 * 1024 * 1024, description="Largest case state (JSON, history apart); a command "
                            "that would grow a case past it is refused as `too_large`, far below MongoDB's 16 MiB.")
    id_chars: int = Field(64, description="Longest case id, account id or message id.")
    case_id_pattern: str = Field(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
                                 description="Characters a case (or account) id may use; it is also the Kafka key.")

    @property
    def broker_bytes(self) -> int:
        """What Kafka must accept for one record: `record_bytes` plus room for key, headers and batch framing.

        The one figure behind the producer's max.request.size, each topic's max.message.bytes and the
        consumer's fetch sizes, so a record one service may write is one every other can move and read.
        """
        return self.record_bytes + BROKER_OVERHEAD_BYTES


class KafkaClient(BaseModel):
    """Kafka client tuning, the same in every service; env `KAFKA_CLIENT__<NAME>` (docs/design.md).

    Tuned for latency on a small machine: a unit of work hands all its batch's records to the producer
    before it waits for their acks, so they leave in one request per partition without any linger;
    consumers take what is there at once (nothing is held back for more bytes), plus what waited behind
    it (runtime/prompt_fetch.py), and an idle one wakes as soon as a record is fetched.
    """

    linger_ms: int = Field(0, ge=0, description="Producer: wait this long for more records before sending a "
                           "partition's batch; publish_many appends a whole batch before it yields, so 0 already "
                           "sends it in one request (aiokafka: 0).")
    max_batch_size: int = Field(131_072, ge=16_384, description="Producer: bytes buffered per partition per "
                                "request; a batch of a few hundred events fits (aiokafka: 16384).")
    fetch_max_wait_ms: int = Field(500, ge=0, description="Consumer: how long the broker may hold a fetch when "
                                   "fewer than `fetch_min_bytes` are there; only idle fetches wait (aiokafka: 500).")
    fetch_min_bytes: int = Field(1, ge=1, description="Consumer: bytes the broker waits for before answering a "
                                 "fetch; 1 answers as soon as any record is there (aiokafka: 1).")
    batch_timeout_ms: int = Field(500, ge=1, description="Consumer: how long an empty poll waits for a first "
                                  "record before polling again; a record ends the wait at once and a stop ends it "
                                  "(the consumer closes), so it only sets how often an idle subscription loops "
                                  "(prompt_fetch.py drops FastStream's sleep after an empty poll) (FastStream: 200).")
    max_records: int = Field(200, ge=1, description="Consumer: most records handed to a unit of work at once; "
                             "reached only behind a backlog, where 200 already spreads a batch's round trips thin.")
    lanes: int = Field(1, ge=1, le=8, description="Consumer: units of work a backlog batch (at least 32 records a "
                       "lane) is split into by partition and run side by side, so the service decides while its "
                       "store works; worth it where the store has cores of its own, not where everything shares "
                       "two (docs/design.md, \"Lanes\").")

    def producer_options(self) -> dict[str, int]:
        """Keyword arguments for the producer (`KafkaBroker(...)`)."""
        return {"linger_ms": self.linger_ms, "max_batch_size": self.max_batch_size}

    def consumer_options(self) -> dict[str, int]:
        """Keyword arguments for a batch subscriber (`broker.subscriber(..., batch=True)`)."""
        return {"fetch_max_wait_ms": self.fetch_max_wait_ms, "fetch_min_bytes": self.fetch_min_bytes,
                "batch_timeout_ms": self.batch_timeout_ms, "max_records": self.max_records}


class Tracing(BaseModel):
    """OpenTelemetry tracing; env `TRACING__<NAME>` (docs/operations.md, "Tracing"). Off: a no-op tracer."""

    exporter: Literal["off", "console", "otlp"] = Field("off", description="Where spans go: nowhere (the no-op "
                                                        "tracer; `traceparent` is passed on as received), the console "
                                                        "(or `file`), or an OTLP/HTTP collector at `endpoint`.")
    endpoint: str = Field("", description="OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces "
                          "(empty: the exporter's own default and OTEL_EXPORTER_OTLP_* variables).")
    file: str = Field("", description="`console` only: append one JSON line per span to this file, not stdout.")


class Settings(BaseSettings):
    """Connection and runtime settings shared by every service."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    service_name: str = Field("service", description="Name used in logs, client ids and CloudEvent `source`.")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated.")
    # Client security of every Kafka client (shared/runtime/kafka_security.py turns them into client options).
    kafka_security_protocol: str = Field("PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.")
    kafka_sasl_mechanism: str = Field("SCRAM-SHA-512", description="SASL mechanism (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN).")
    kafka_sasl_username: str = Field("", description="This client's principal (SASL user name).")
    kafka_sasl_password: str = Field("", description="This client's SASL password.")
    kafka_ssl_cafile: str | None = Field(None, description="CA bundle that signed the brokers' certificates (SSL, SASL_SSL).")
    kafka_ssl_certfile: str | None = Field(None, description="Client certificate, for brokers that require one (mTLS).")
    kafka_ssl_keyfile: str | None = Field(None, description="Key of the client certificate.")
    mongodb_url: str = Field("mongodb://127.0.0.1:27017/?directConnection=true", description="MongoDB URL.")
    mongodb_database: str = Field("cases", description="Database prefix of this deployment; each service owns `<prefix>_<service>`.")
    http_host: str = Field("127.0.0.1", description="Host the health/read-model HTTP server binds to.")
    http_port: int = Field(8080, description="Port of the health/read-model HTTP server (0 = any free port).")
    http_max_body_bytes: int = Field(65_536, description="Largest HTTP request body; a bigger one gets 413 "
                                     "before it is read whole.")
    oidc_jwks_url: str = Field("", description="JWKS of the OIDC issuer whose bearer tokens the HTTP API accepts "
                               "(empty: every authenticated endpoint answers 401).")
    oidc_issuer: str = Field("", description="The `iss` every bearer token must carry.")
    oidc_audience: str = Field("case-backbone", description="The `aud` every bearer token must carry.")
    log_level: str = Field("INFO", description="Minimum log level.")
    consumer_group_prefix: str = Field("", description="Put before the service name to form its consumer group.")
    topic_replication_factor: int = Field(1, description="Replication factor of the topics the stack creates.")
    topic_min_insync_replicas: int = Field(1, description="min.insync.replicas of the topics the stack creates "
                                           "(with acks=all, a write needs this many replicas).")
    outbox_sweep_seconds: float = Field(2.0, description="How often the outbox relay looks for unpublished events.")
    shutdown_grace_seconds: float = Field(15.0, description="On SIGTERM, how long each drain step may take: open "
                                          "HTTP requests, in-flight records, each background loop's last flush.")
    limits: Limits = Field(default_factory=Limits, description="Size limits, the same in every service.")
    kafka_client: KafkaClient = Field(default_factory=KafkaClient, description="Kafka client tuning (linger, fetch).")
    tracing: Tracing = Field(default_factory=Tracing, description="OpenTelemetry tracing (off by default).")

    topic_case_commands: str | None = None
    topic_case_events: str | None = None
    topic_case_rejections: str | None = None
    topic_approval_commands: str | None = None
    topic_approval_events: str | None = None
    topic_portal_case_status: str | None = None
    topic_notification_events: str | None = None
    topic_routing_events: str | None = None
    topic_prefix: str = Field("", description="Prefix put before every topic name (isolation of tests or tenants).")

    @property
    def topics(self) -> Topics:
        """Resolved topic names: defaults, renamed by `TOPIC_*`, then prefixed."""
        overrides = {  # routing's own settings rename routing.commands (TOPIC_ROUTING_COMMANDS)
            name: getattr(self, f"topic_{name}", None)
            for name in Topics.model_fields
            if getattr(self, f"topic_{name}", None)
        }
        return Topics(**overrides).prefixed(self.topic_prefix)

    @property
    def group_id(self) -> str:
        """Consumer group of the service: each service reads every topic it needs on its own."""
        return f"{self.consumer_group_prefix}{self.service_name}"

    @property
    def database(self) -> str:
        """The service's own database: no service reads another's collections."""
        return f"{self.mongodb_database}_{self.service_name.replace('-', '_')}"

    smtp_host: str = Field("127.0.0.1", description="SMTP server the notifier sends through.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_from: str = Field("cases@example.com", description="Sender address of notifications.")
    public_base_url: str = Field("http://127.0.0.1:8080", description="Base of deep links in notifications.")
    link_secret: str = Field("change-me", description="Key that signs approval link tokens: each deployment its own, "
                             "at least 32 bytes; approval refuses to start with a default or short one unless dev_mode.")
    dev_mode: bool = Field(False, description="Explicit development mode (make run, the tests): allows the default "
                           "link secret. Never set it in a deployment.")
