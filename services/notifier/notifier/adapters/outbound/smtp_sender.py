"""MailSender over SMTP (aiosmtplib): multipart/alternative, plain text and HTML."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from notifier.core.delivery import Mail
from notifier.ports.sender import SendError, Unreachable


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message: text first, HTML as the preferred alternative, Message-ID from the delivery."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, mail.to, mail.subject
    msg["Message-ID"], msg["Date"] = mail.message_id, formatdate(localtime=False, usegmt=True)
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


class SmtpSender:
    """Sends each e-mail on its own connection, so one bad message never poisons a shared session."""

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout

    async def send(self, mail: Mail) -> None:
        """Return when the server accepted it; SendError (permanent on 5xx) or Unreachable otherwise."""
        try:
            await aiosmtplib.send(build_message(mail, self._sender), hostname=self._host, port=self._port,
                                  timeout=self._timeout, start_tls=False)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise SendError(f"recipient refused: {'; '.join(f'{r.code} {r.message}' for r in exc.recipients)}",
                            permanent=all(c >= 500 for c in codes)) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise SendError(f"{exc.code} {exc.message}", permanent=exc.code >= 500) from None
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError, aiosmtplib.SMTPServerDisconnected,
                aiosmtplib.SMTPTimeoutError, OSError) as exc:
            raise Unreachable(f"SMTP server {self._host}:{self._port} unreachable: {exc}") from None
        except aiosmtplib.SMTPException as exc:
            raise SendError(str(exc)) from None
