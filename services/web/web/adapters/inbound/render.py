"""Rendering: Jinja2 with autoescape everywhere, and the security headers of every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Everything rendered is escaped: subjects, comments and names come from people and other systems.
_ENV = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined)
# The same headers as approval's link page; scripts are not allowed at all (the pages have none).
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
           "X-Content-Type-Options": "nosniff",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'"}


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The template rendered with `context` (plus `user` and `csrf` when the caller gives none)."""
    context.setdefault("user", None)
    context.setdefault("csrf", "")
    context.setdefault("message", None)
    return HTMLResponse(_ENV.get_template(template).render(**context), status, headers=HEADERS)


def problem(status: int, title: str, message: str, **context: Any) -> HTMLResponse:
    """An error page: what went wrong, in words, with the status."""
    return page("problem.html.j2", status, title=title, message=message, **context)


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a form, the browser GETs the next page."""
    return RedirectResponse(url, 303, headers=HEADERS)
