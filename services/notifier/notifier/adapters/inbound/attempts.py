"""One send attempt: the mail to the server, and what it changes in its delivery (sent, a retry, or failed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifier.core.delivery import AttemptResult, Delivery, attempt_result, next_attempt
from notifier.core.outcomes import failed_entries, sent_entries
from notifier.ports.sender import MailSender, SendError, Unreachable
from shared.runtime import metrics
from shared.settings import Topics


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry."""

    max_attempts: int = 8
    base_seconds: float = 2.0
    max_seconds: float = 60.0
    lease_seconds: float = 60.0
    concurrency: int = 8
    sweep_seconds: float = 10.0  # the longest it goes without claiming: for work others left (another replica's)


@dataclass(frozen=True)
class Tried:
    """One attempt: the result to write, then the log line (and metric) it gets once written."""

    result: AttemptResult
    level: str
    event: str
    counter: Any
    fields: dict[str, Any]


class Attempts:
    """Sends one delivery and makes its result: sent, retried with backoff, or failed (refused, or at the limit)."""

    def __init__(self, sender: MailSender, topics: Topics, policy: RetryPolicy, clock: Callable[[], datetime]) -> None:
        self._sender, self._topics, self._policy, self._clock = sender, topics, policy, clock

    async def send(self, d: Delivery, lease: datetime) -> Tried:
        """Send `d` under `lease`; its result and outcome events, to be written with the round's."""
        assert d.mail
        attempts = d.attempts + 1
        try:
            await self._sender.send(d.mail)
        except Unreachable as exc:
            return self._retry(d, lease, attempts, str(exc), counts=False)
        except SendError as exc:
            if exc.permanent:
                return self._fail(d, lease, attempts, str(exc), permanent=True)
            return self._retry(d, lease, attempts, str(exc), counts=True)
        except Exception as exc:  # unexpected: treat as a temporary failure of this message
            return self._retry(d, lease, attempts, f"{type(exc).__name__}: {exc}", counts=True)
        metrics.MAILS_SENT.labels(metrics.service()).inc()  # the server accepted it, whatever the write finds
        now = self._clock()
        result = attempt_result(d, lease, sent_entries(self._topics, d, attempts, now), state="sent",
                                attempts=attempts, finished_at=now, last_error=None)
        return Tried(result, "info", "notification.sent", None,
                      dict(delivery_id=d.id, recipient=d.recipient, case_id=d.case_id, attempts=attempts))

    def _retry(self, d: Delivery, lease: datetime, attempts: int, error: str, counts: bool) -> Tried:
        strikes = d.strikes + (1 if counts else 0)
        if strikes >= self._policy.max_attempts:
            return self._fail(d, lease, attempts, error, permanent=False, strikes=strikes)
        at = next_attempt(attempts, self._policy.base_seconds, self._policy.max_seconds, self._clock())
        result = attempt_result(d, lease, [], attempts=attempts, strikes=strikes, next_attempt_at=at,
                                last_error=error)
        counter = metrics.MAIL_RETRIES.labels(metrics.service(), "temporary" if counts else "unreachable")
        return Tried(result, "warning", "notification.retry_scheduled", counter,
                      dict(delivery_id=d.id, recipient=d.recipient, error=error, attempts=attempts,
                           next_attempt_at=at.isoformat()))

    def _fail(self, d: Delivery, lease: datetime, attempts: int, error: str, permanent: bool,
              strikes: int | None = None) -> Tried:
        now = self._clock()
        entries = failed_entries(self._topics, d, attempts, error, permanent, now)
        result = attempt_result(d, lease, entries, state="failed", attempts=attempts,
                                strikes=strikes or d.strikes + 1, finished_at=now, last_error=error)
        return Tried(result, "error", "notification.failed",
                      metrics.MAILS_FAILED.labels(metrics.service(), "true" if permanent else "false"),
                      dict(delivery_id=d.id, recipient=d.recipient, error=error, attempts=attempts, permanent=permanent))
