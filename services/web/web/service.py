"""The staff desk: what each page shows, read from intake and approval with the person's own token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from web.core import PipelineRow, pipeline
from web.ports import ApprovalApi, CaseCommands, IntakeApi

PAGE_SIZE = 50
PIPELINE_PAGES = 20  # at most 20 × 200 open sales cases are summed; the page says when there were more
PIPELINE_PAGE_SIZE = 200


@dataclass
class Listing:
    """One page of cases and the cursor of the next."""

    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass
class Pipeline:
    """The pipeline rows and whether every open sales case was read."""

    rows: list[PipelineRow]
    complete: bool
    cases: int


class StaffDesk:
    """Every page's data; the pages only render it. Nothing here changes a case except through a command."""

    def __init__(self, intake: IntakeApi, approval: ApprovalApi, commands: CaseCommands,
                 approval_url: str = "") -> None:
        self.intake, self.approval, self.commands, self._approval_url = intake, approval, commands, approval_url

    async def case(self, case_id: str, token: str) -> dict[str, Any]:
        """The case as intake returns it (ApiError 404 when unknown)."""
        return await self.intake.case(case_id, token)

    async def my_cases(self, person: str, token: str, cursor: str | None = None) -> Listing:
        """The open cases assigned to `person`, newest first."""
        return await self._list(token, assignee=person, open="true", limit=str(PAGE_SIZE), cursor=cursor or "")

    async def available(self, token: str, cursor: str | None = None) -> Listing:
        """Open cases nobody is assigned to, newest first: what a person may take."""
        return await self._list(token, assignee="none", open="true", limit=str(PAGE_SIZE), cursor=cursor or "")

    async def take(self, case_id: str, person: str) -> str:
        """Send the `case.assign` that gives the case to `person`; intake accepts or refuses it."""
        return await self.commands.assign_to_self(case_id, person)

    async def approvals(self, token: str) -> list[dict[str, Any]]:
        """The approval steps waiting for the person, each with an absolute link to its page."""
        items = await self.approval.waiting(token)
        for item in items:
            link = str(item.get("link") or "")
            if link.startswith("/") and self._approval_url:  # a path: on approval's own address
                link = urljoin(self._approval_url.rstrip("/") + "/", link.lstrip("/"))
            item["link"] = link if link.startswith(("http://", "https://")) else None
        return items

    async def pipeline(self, token: str) -> Pipeline:
        """Open sales cases per GBU and stage, with expected revenue and revenue × chance."""
        cases: list[dict[str, Any]] = []
        cursor: str | None = ""
        for _ in range(PIPELINE_PAGES):
            page = await self.intake.cases(token, type="sales", open="true", limit=str(PIPELINE_PAGE_SIZE),
                                           cursor=cursor or "")
            cases += page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return Pipeline(pipeline(cases), complete=not cursor, cases=len(cases))

    async def _list(self, token: str, **filters: str) -> Listing:
        page = await self.intake.cases(token, **filters)
        return Listing(list(page.get("items", [])), page.get("next_cursor"))
