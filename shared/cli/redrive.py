"""Re-driving dead letters to their source topic exactly once, marked so a second run skips them."""

from __future__ import annotations

from shared.cli.env import Env
from shared.cli.records import Log, Record, send

MARK = "dlq-redriven-from"  # header on a re-driven record: `<dlq topic>/<partition>:<offset>` of its dead letter


def source_topic(dlq_topic: str, record: Record) -> str:
    """Where a dead letter came from: its `dlq-original-topic` header, else the topic name without `.dlq`."""
    return record.headers.get("dlq-original-topic") or dlq_topic.removesuffix(".dlq")


def mark(dlq_topic: str, record: Record) -> str:
    """The marker of one dead letter."""
    return f"{dlq_topic}/{record.where}"


async def already_sent(env: Env, topic: str, since_ms: int) -> set[str]:
    """Markers on `topic`'s records since `since_ms` (a re-drive always comes after its dead letter)."""
    async with Log(env, topic) as log:
        start, end = await log.from_time(since_ms), (await log.bounds())[1]
        await log.seek(start)
        return {r.headers[MARK] async for r in log.until(end) if MARK in r.headers}


async def redrive_records(env: Env, dlq_topic: str, records: list[Record],
                          value: bytes | None = None) -> list[tuple[str, str, str]]:
    """Send each record's value (or `value`) with its key to its source topic, unless sent before.

    Returns (record, source topic, outcome) rows. A cut value (`dlq-truncated`) is not sent as it is.
    """
    rows: list[tuple[str, str, str]] = []
    by_source: dict[str, list[Record]] = {}
    for record in records:
        by_source.setdefault(source_topic(dlq_topic, record), []).append(record)
    for source, group in by_source.items():
        sent = await already_sent(env, source, min(r.timestamp for r in group))
        for record in group:
            if mark(dlq_topic, record) in sent:
                rows.append((record.where, source, "skipped: re-driven before"))
            elif value is None and (record.headers.get("dlq-truncated") or "false") != "false":
                rows.append((record.where, source, "skipped: value was cut; give --value-file"))
            elif value is None and not record.value:
                rows.append((record.where, source, "skipped: no value kept"))
            else:
                await send(env, source, value if value is not None else record.value, record.key,
                           {MARK: mark(dlq_topic, record)})
                rows.append((record.where, source, "sent" + (" (corrected value)" if value is not None else "")))
    return rows
