"""The notifier's settings: the shared ones plus links, retries and the subscriptions file."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class NotifierSettings(Settings):
    """Shared settings plus what only the notifier reads (env: CASE_LINK_BASE, NOTIFY_MAX_ATTEMPTS, ...)."""

    case_link_base: str | None = Field(None, description="Base of case links `{base}/cases/{id}`; default public_base_url.")
    approval_public_url: str | None = Field(None, description="Approval's public address: approval links are built "
                                            "as `{it}/approvals/{token}` from the event's token; default public_base_url.")
    subscriptions_file: str | None = Field(None, description="Who is told of what; default the file shipped in the package.")
    notify_max_attempts: int = Field(8, ge=1, description="Tries the server answered (4xx, errors) before a delivery fails.")
    notify_retry_base_seconds: float = Field(2.0, gt=0, description="First retry delay; doubles per attempt.")
    notify_retry_max_seconds: float = Field(60.0, gt=0, description="Longest retry delay (also while the server is down).")
    notify_sweep_seconds: float = Field(10.0, gt=0, description="Longest the sender goes without looking at the store: "
                                        "it sends what this process planned at once, and claims when the next known "
                                        "delivery falls due; this sweep finds what another replica left.")
    notify_lease_seconds: float = Field(60.0, gt=0, description="A delivery claimed, or planned by this process, and "
                                        "not finished by then (crash) is tried again.")
    notify_concurrency: int = Field(8, ge=1, description="E-mails sent at the same time.")
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="SMTP connect/command timeout.")

    @property
    def case_links(self) -> str:
        """Base of case deep links."""
        return (self.case_link_base or self.public_base_url).rstrip("/")

    @property
    def approval_links(self) -> str:
        """Base of approval links (where approvers open their page); never taken from an event."""
        return (self.approval_public_url or self.public_base_url).rstrip("/")

    @property
    def mail_domain(self) -> str:
        """Domain of Message-IDs: the sender's."""
        return self.smtp_from.rpartition("@")[2] or "localhost"
