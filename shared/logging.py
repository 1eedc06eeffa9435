"""structlog JSON logging for our code and every library (FastStream, aiokafka, uvicorn); one logger per message."""

from __future__ import annotations

import logging
import sys

import structlog

_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout, each tagged with the service name, whoever logged them."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka logs coordinator chatter at INFO that is normal during start-up and rebalances.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def library_logger(name: str) -> logging.Logger:
    """A stdlib logger for a library (e.g. FastStream) that goes through our JSON formatter.

    Not under "faststream.*": that hierarchy has FastStream's own coloured handler.
    """
    return logging.getLogger(name)


def message_logger(**context: object) -> structlog.stdlib.BoundLogger:
    """A logger bound to one message's topic, partition, offset, case and correlation ids."""
    return structlog.get_logger("message").bind(**{k: v for k, v in context.items() if v is not None})
