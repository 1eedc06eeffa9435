"""Which queues a case may be sent to: those its lifecycle file declares, for the case's GBU."""

from __future__ import annotations

from shared.lifecycles import Lifecycle


def queue_problem(lc: Lifecycle, gbu: str, queue: str | None) -> str | None:
    """Why `queue` cannot hold this case (a sentence), or None when it can (or no queue is named)."""
    if queue is None:
        return None
    target = lc.queue(queue)
    if target is not None and target.takes(gbu):
        return None
    open_to = [q.code for q in lc.queues if q.takes(gbu)]
    if target is not None:
        why = f"queue '{queue}' ({target.label}) only takes GBU {', '.join(target.gbus)}, and this one is {gbu}"
    else:
        why = f"'{queue}' is not a queue for this case type"
    where = f"send it to one of its queues: {', '.join(open_to)}" if open_to else "assign it to a person instead"
    return f"{lc.a_label_cap} cannot be sent to queue '{queue}': {why}; {where}."
