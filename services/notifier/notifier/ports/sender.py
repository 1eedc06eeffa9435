"""What the notifier needs to send an e-mail; the SMTP adapter implements it."""

from __future__ import annotations

from typing import Protocol

from notifier.core.delivery import Mail


class SendError(Exception):
    """The e-mail was not accepted; `permanent` when the server refused it for good (5xx)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Unreachable(SendError):
    """No server answered: its outage, not the message's fault, so it never uses up the retry limit."""


class MailSender(Protocol):
    """Sends one e-mail."""

    async def send(self, mail: Mail) -> None:
        """Return when the server accepted it; raise SendError otherwise."""
