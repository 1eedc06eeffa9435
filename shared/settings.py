"""Settings every service reads from the environment (pydantic-settings)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Topics(BaseModel):
    """Topic names; each can be renamed with env `TOPIC_<NAME>` (e.g. `TOPIC_CASE_EVENTS`)."""

    case_commands: str = Field("case.commands", description="Commands in: case.* and account.upsert.")
    case_events: str = Field("case.events", description="Facts about cases, keyed by case id.")
    case_rejections: str = Field("case.rejections", description="Commands refused, with code and reason.")
    approval_commands: str = Field("approval.commands", description="Approver decisions and delegations.")
    approval_events: str = Field("approval.events", description="Approval steps requested and decided.")
    portal_case_status: str = Field("portal.case-status", description="Compacted: one record per case for the portal.")
    notification_events: str = Field("notification.events", description="Outcome of each notification delivery.")

    def prefixed(self, prefix: str) -> "Topics":
        """The same topics under a prefix; tests use it to isolate themselves."""
        return Topics(**{name: f"{prefix}{value}" for name, value in self.model_dump().items()})

    @staticmethod
    def dlq(topic: str) -> str:
        """Dead-letter topic of `topic`."""
        return f"{topic}.dlq"


class Settings(BaseSettings):
    """Connection and runtime settings shared by every service."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    service_name: str = Field("service", description="Name used in logs, client ids and CloudEvent `source`.")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated.")
    mongodb_url: str = Field("mongodb://127.0.0.1:27017/?directConnection=true", description="MongoDB URL.")
    mongodb_database: str = Field("cases", description="Database prefix of this deployment; each service owns `<prefix>_<service>`.")
    http_host: str = Field("127.0.0.1", description="Host the health/read-model HTTP server binds to.")
    http_port: int = Field(8080, description="Port of the health/read-model HTTP server (0 = any free port).")
    log_level: str = Field("INFO", description="Minimum log level.")
    consumer_group_prefix: str = Field("", description="Put before the service name to form its consumer group.")
    topic_replication_factor: int = Field(1, description="Replication factor of the topics the stack creates.")
    outbox_sweep_seconds: float = Field(2.0, description="How often the outbox relay looks for unpublished events.")

    topic_case_commands: str | None = None
    topic_case_events: str | None = None
    topic_case_rejections: str | None = None
    topic_approval_commands: str | None = None
    topic_approval_events: str | None = None
    topic_portal_case_status: str | None = None
    topic_notification_events: str | None = None
    topic_prefix: str = Field("", description="Prefix put before every topic name (isolation of tests or tenants).")

    @property
    def topics(self) -> Topics:
        """Resolved topic names: defaults, renamed by `TOPIC_*`, then prefixed."""
        overrides = {
            name: getattr(self, f"topic_{name}")
            for name in Topics.model_fields
            if getattr(self, f"topic_{name}")
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
    link_secret: str = Field("change-me", description="Key that signs approval link tokens.")
