"""structlog JSON logging; one logger bound per message."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout, each tagged with the service name."""
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper())
    # aiokafka is chatty at INFO about coordinator chatter that is normal on startup.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def message_logger(**context: object) -> structlog.stdlib.BoundLogger:
    """A logger bound to one message's topic, partition, offset, case and correlation ids."""
    return structlog.get_logger().bind(**{k: v for k, v in context.items() if v is not None})
