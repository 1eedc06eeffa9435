"""Open cases per assignee, kept as counters instead of counted per decision (least-loaded routing)."""

from __future__ import annotations

from collections.abc import Iterable

from routing.core.view import CaseView


def _holder(view: CaseView | None) -> str | None:
    """Whose open case this view is (None: closed, unassigned or no view)."""
    return view.assignee if view is not None and view.is_open and view.assignee else None


class OpenLoad:
    """Counters of open cases per person: reset from the stored views, moved by each view written since.

    Exact for the views this process writes; the views other replicas write arrive with the next reset.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._since_read: list[tuple[str | None, str | None]] | None = None
        self.loaded = False

    def __call__(self, people: Iterable[str]) -> dict[str, int]:
        """Open cases of each of `people` (the `Load` that rule resolution takes)."""
        return {p: self._counts.get(p, 0) for p in people}

    def moved(self, before: CaseView | None, after: CaseView) -> None:
        """A view was written: its case may have left one person's load and joined another's."""
        old, new = _holder(before), _holder(after)
        if old == new:
            return
        self._move(old, new)
        if self._since_read is not None:  # a reset is reading the views: it may not see this write yet
            self._since_read.append((old, new))

    def _move(self, old: str | None, new: str | None) -> None:
        if old is not None:
            self._counts[old] = max(self._counts.get(old, 0) - 1, 0)
        if new is not None:
            self._counts[new] = self._counts.get(new, 0) + 1

    def reading(self) -> None:
        """A reset's read of the views starts now."""
        self._since_read = []

    def reset(self, counts: dict[str, int]) -> None:
        """The counts as read from the views, with the moves made while reading on top.

        A move the read already saw counts twice until the next reset: off by one for a few seconds,
        which least-loaded routing tolerates (it never counted cases routed in the same instant anyway).
        """
        moves, self._since_read = self._since_read or [], None
        self._counts = dict(counts)
        for old, new in moves:
            self._move(old, new)
        self.loaded = True
