"""Approval settings: the shared ones plus the scheduler period, the rules file and the links' lifetime."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from shared.settings import Settings

MIN_SECRET_BYTES = 32
# Values that ever shipped as defaults or placeholders: anyone who read the repository knows them.
KNOWN_SECRETS = frozenset({"change-me", "PLACEHOLDER-replace-me-with-a-random-secret",
                           "local-compose-link-secret-not-for-production"})


class ApprovalSettings(Settings):
    """Read from the environment like every service's settings (`APPROVAL_*` for ours)."""

    approval_scheduler_seconds: float = Field(30.0, description="The longest the scheduler sleeps: it wakes at the next due timer, or sooner when a write makes an earlier one due.")
    approval_rules_file: str | None = Field(None, description="Rule set YAML used at start-up (default: the packaged approval_rules.yaml).")
    link_ttl_days: float = Field(14.0, gt=0, description="How long an e-mailed approval link works (env LINK_TTL_DAYS).")
    link_csrf_minutes: float = Field(720.0, gt=0, description="How long the decision form of a rendered approval page "
                                     "may be submitted (env LINK_CSRF_MINUTES).")
    case_link_base: str | None = Field(None, description="Base of the staff case page the approval page links to, "
                                       "`{base}/cases/{id}` (env CASE_LINK_BASE, as the notifier's); default public_base_url.")

    @property
    def case_links(self) -> str:
        """Where the staff case page lives, without a trailing slash."""
        return (self.case_link_base or self.public_base_url).rstrip("/")

    @property
    def link_ttl(self) -> timedelta:
        """Lifetime of a link token."""
        return timedelta(days=self.link_ttl_days)


def link_secret_problem(settings: Settings) -> str | None:
    """Why the link secret may not be used here, or None; anything goes in explicit development mode."""
    if settings.dev_mode:
        return None
    secret = settings.link_secret
    if not secret.strip() or secret in KNOWN_SECRETS:
        return ("LINK_SECRET is empty or a published default: anyone could forge approval links. Give this "
                "deployment its own random secret (e.g. `openssl rand -base64 48`), or set DEV_MODE=true locally.")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return (f"LINK_SECRET is {len(secret.encode())} bytes; at least {MIN_SECRET_BYTES} are required "
                "(e.g. `openssl rand -base64 48`), or set DEV_MODE=true locally.")
    return None
