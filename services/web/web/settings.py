"""Web settings: the shared ones plus the read APIs' addresses, local sign-in and the form secret."""

from __future__ import annotations

import secrets

from pydantic import Field

from shared.settings import Settings


class WebSettings(Settings):
    """Read from the environment like every service's settings."""

    intake_url: str = Field("http://127.0.0.1:8081", description="Intake's HTTP API (env INTAKE_URL).")
    approval_url: str = Field("http://127.0.0.1:8082", description="Approval's HTTP API (env APPROVAL_URL).")
    web_dev_issuer_token_url: str | None = Field(
        None, description="The development issuer's `/token` (deploy/local/oidc_issuer.py): when set, the sign-in "
        "form signs in anyone of the people directory. Local only; unset (the default) nobody can sign in.")
    web_form_secret: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="Key of the forms' CSRF tokens; replicas behind one address need the same value (default: "
                    "random per process, so a form outlives no restart).")

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS when the public address is HTTPS."""
        return self.public_base_url.startswith("https://")
